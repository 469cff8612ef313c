/**
 * The config schema fragments of the WAF (PRODUCT §3 `waf`, route `waf`), owned here and spliced
 * into config/schema.ts as Envoy's per-filter protos are. The descriptions are the config
 * reference; docs/waf.md tells the longer story.
 */
import { CRS_SCHEMA } from './crs/schema.js';

export const WAF_MODES = ['block', 'detect', 'off'] as const;

export const WAF_DEFAULTS = Object.freeze({
  mode: 'block' as const,
  paranoia: 1,
  anomalyThreshold: 5,
  inspectBodyBytes: 65536,
});

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** path | args | body | headers | cookies, the named ones optionally `:<name>` (exclusions.ts). */
export const TARGET_PATTERN = '^(path|body|args(:.+)?|headers(:.+)?|cookies(:.+)?)$';

const exclusion = {
  type: 'object',
  description: 'Switches rules off for a route and/or a part of the request. At least `rules`; without `route` it applies to every route, without `target` to the whole request.',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    route: {
      type: 'string',
      description: 'Name of the route it applies to. Absent: every route.',
      pattern: NAME_PATTERN,
      errorMessage: 'must be a route name',
    },
    rules: {
      type: 'array',
      description: 'Rule ids to switch off (docs/waf.md lists them).',
      items: { type: 'integer', description: 'A WAF rule id.', minimum: 900000, maximum: 999999 },
      minItems: 1,
      maxItems: 256,
      uniqueItems: true,
    },
    target: {
      type: 'string',
      description: 'Where: path, args, args:<name> (query/form/multipart field or JSON key path such as items.note), body, headers, headers:<name>, cookies, cookies:<name>. Absent: the whole request.',
      pattern: TARGET_PATTERN,
      maxLength: 256,
      errorMessage: 'must be path, args, args:<name>, body, headers, headers:<name>, cookies or cookies:<name>',
    },
  },
};

export const WAF_SCHEMA = {
  type: 'object',
  description: 'WAF signature engine (docs/waf.md). On by default: absent, every route is inspected in block mode at paranoia 1 with these defaults; `mode: off` switches it off.',
  additionalProperties: false,
  properties: {
    mode: {
      type: 'string',
      description: 'block answers 403 when a request reaches anomalyThreshold; detect only logs and counts matches; off skips the WAF. Routes may override it with their own `waf`. Default: block.',
      enum: WAF_MODES,
      default: WAF_DEFAULTS.mode,
    },
    paranoia: {
      type: 'integer',
      description: 'Rule selection, 1 (fewest false positives) to 4 (most rules). Default: 1.',
      minimum: 1,
      maximum: 4,
      default: WAF_DEFAULTS.paranoia,
    },
    anomalyThreshold: {
      type: 'integer',
      description: 'Anomaly score at which a request is blocked: each matched rule adds its severity once (critical 5, error 4, warning 3, notice 2). Default: 5.',
      minimum: 1,
      maximum: 1000,
      default: WAF_DEFAULTS.anomalyThreshold,
    },
    inspectBodyBytes: {
      type: 'integer',
      description: 'Bytes of a JSON, form, multipart or text body read and inspected before forwarding; the rest of a larger body streams uninspected. 0 inspects no body. Default: 65536.',
      minimum: 0,
      maximum: 1048576,
      default: WAF_DEFAULTS.inspectBodyBytes,
    },
    exclusions: {
      type: 'array',
      description: 'Rule exclusions for known false positives: [{ route: cms, rules: [942100], target: "args:body" }]. Default: [].',
      items: exclusion,
      maxItems: 1024,
      default: [],
    },
    crs: CRS_SCHEMA,
  },
};

export const ROUTE_WAF_SCHEMA = {
  type: 'string',
  description: "This route's WAF mode, overriding waf.mode: block, detect or off.",
  enum: WAF_MODES,
};
