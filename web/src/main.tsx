import { render } from "preact";
import { App } from "./components/app.tsx";
import { storeToken } from "./session.ts";
import "./styles.css";

/**
 * A sign-in link (`/#token=…`, printed by `openlinq serve`) hands the token over once: it
 * is kept for the browser session and the fragment is replaced, so it stays out of the
 * address bar and the history.
 */
const fromLink = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (fromLink?.[1]) {
  storeToken(decodeURIComponent(fromLink[1]));
  history.replaceState(null, "", `${location.pathname}${location.search}#/chats`);
}

render(<App />, document.getElementById("app")!);
