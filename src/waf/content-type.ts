/**
 * Which request bodies the WAF reads, by media type (docs/waf.md "Bodies"). JSON, urlencoded
 * forms, multipart forms and text (plain, XML, HTML, YAML, GraphQL, JavaScript) are inspected; a
 * body without a Content-Type is read as text, since the upstream may still parse it. Everything
 * else — images, audio, video, archives, octet streams, protobuf, msgpack — is binary and streams
 * to the upstream untouched, never buffered.
 */

export type BodyKind = 'json' | 'form' | 'multipart' | 'text';

/** The media type of a Content-Type value: lower-cased, parameters dropped. */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function bodyKind(contentType: string | undefined): BodyKind | null {
  if (contentType === undefined || contentType.trim() === '') return 'text';
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type.startsWith('multipart/')) return 'multipart';
  if (type === 'application/json' || type.endsWith('+json') || type === 'application/x-ndjson'
    || type === 'application/jsonl' || type === 'application/x-json' || type === 'application/csp-report') return 'json';
  if (type.startsWith('text/') || type.endsWith('+xml') || type === 'application/xml' || type === 'application/graphql'
    || type === 'application/javascript' || type === 'application/x-yaml' || type === 'application/yaml'
    || type === 'application/x-javascript' || type === 'application/sql') return 'text';
  return null;
}

/** For multipart parts: is this part's content text the WAF should read? */
export function isTextType(contentType: string): boolean {
  return bodyKind(contentType) !== null && contentType.trim() !== '';
}
