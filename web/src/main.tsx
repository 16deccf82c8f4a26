import { render } from "preact";
import { App } from "./components/app.tsx";
import "./styles.css";

/**
 * A sign-in link (`/#token=…`, printed by `openlinq serve`) hands the token over once: it
 * goes to sessionStorage and the fragment is replaced, so it stays out of the address bar
 * and the history.
 */
const TOKEN_KEY = "openlinq.token";
const fromLink = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (fromLink?.[1]) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromLink[1]));
  history.replaceState(null, "", `${location.pathname}${location.search}#/chats`);
}

render(<App tokenKey={TOKEN_KEY} />, document.getElementById("app")!);
