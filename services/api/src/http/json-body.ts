/**
 * JSON bodies, with two allowances: an empty body counts as no body (curl's `-X POST -H
 * "Content-Type: application/json"` without `-d` is a valid call to routes whose body is
 * optional), and a body sent with another content type (curl's `-d` alone sends
 * application/x-www-form-urlencoded) is read as JSON too.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";

type ContentTypeParserDoneFunction = (error: Error | null, body?: unknown) => void;

type JsonParser = (request: FastifyRequest, body: string, done: ContentTypeParserDoneFunction) => void;

export function installJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser("error", "error") as JsonParser;
  const parser = (request: FastifyRequest, body: string | Buffer, done: ContentTypeParserDoneFunction) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  };
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser(["application/json", "text/plain"], { parseAs: "string", bodyLimit }, parser);
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, parser);
}
