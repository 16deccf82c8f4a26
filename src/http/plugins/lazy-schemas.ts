import ajvCompiler from "@fastify/ajv-compiler";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import type { FastifyServerOptions } from "fastify";

type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * Fastify's own schema compilers (ajv for validation, fast-json-stringify for answers), each
 * route's schema compiled the first time a request needs it rather than while the server
 * starts: compiling several hundred schemas was about a quarter of the start-up. A compiled
 * function is kept, so only that first request pays (a few milliseconds).
 *
 * Limit: a schema the compiler rejects shows at that first request (a 500), not at start;
 * the API tests reach every route. Fastify treats these as custom compilers, which only
 * changes that it no longer lower-cases the keys of `headers` schemas for us: write them in
 * lower case (as HTTP/1.1 and HTTP/2 deliver them).
 */
export function lazySchemaCompilers(): NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"] {
  const buildValidators = ajvCompiler();
  const buildSerializers = SerializerSelector();
  return {
    buildValidator: (externalSchemas, ajvOptions) => {
      // Setting up ajv (its formats included) also waits for the first request that validates.
      let compile: ReturnType<typeof buildValidators> | undefined;
      return (route) => {
        let compiled: Validate | undefined;
        const validate: Validate = (data) => {
          compile ??= buildValidators(externalSchemas as never, ajvOptions as never);
          compiled ??= compile(route as never) as Validate;
          const result = compiled(data);
          // Fastify reads the errors of a failed validation from the function it was handed.
          validate.errors = compiled.errors;
          return result;
        };
        return validate as never;
      };
    },
    buildSerializer: (externalSchemas, serializerOptions) => {
      let compile: ReturnType<typeof buildSerializers> | undefined;
      return (route) => {
        let compiled: ((data: unknown) => string) | undefined;
        return (data: unknown) => {
          compile ??= buildSerializers(externalSchemas as never, serializerOptions as never);
          return (compiled ??= compile(route as never))(data);
        };
      };
    },
  };
}
