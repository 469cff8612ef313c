/**
 * The `waf.crs` config fragment (PRODUCT §8: `waf.crs: { rulesDir, … }`), spliced into
 * ../schema.ts. Its descriptions are the config reference; docs/waf.md "OWASP CRS" explains.
 */

export const CRS_SCHEMA = {
  type: 'object',
  description: 'Run the OWASP Core Rule Set instead of the built-in rules (docs/waf.md "OWASP CRS"). The gateway does not ship CRS: point rulesDir at a CRS 4 release or checkout, or at Debian\'s modsecurity-crs package. Absent: the built-in rules.',
  additionalProperties: false,
  required: ['rulesDir'],
  properties: {
    rulesDir: {
      type: 'string',
      description: 'Directory of the CRS rule files: a CRS release or checkout (its rules/ folder is used) or a folder of REQUEST-*.conf files, such as /usr/share/modsecurity-crs. Relative paths are relative to the working directory.',
      minLength: 1,
      maxLength: 4096,
    },
    setup: {
      type: 'string',
      description: 'A crs-setup.conf to load before the rules. Absent: <rulesDir>/crs-setup.conf if it exists, else CRS\'s defaults with paranoia and anomalyThreshold below.',
      minLength: 1,
      maxLength: 4096,
    },
    paranoia: {
      type: 'integer',
      description: 'CRS blocking paranoia level, 1 to 4 (tx.blocking_paranoia_level). Default: waf.paranoia.',
      minimum: 1,
      maximum: 4,
    },
    anomalyThreshold: {
      type: 'integer',
      description: 'CRS inbound anomaly score threshold (tx.inbound_anomaly_score_threshold): a request whose score reaches it is blocked. Default: waf.anomalyThreshold.',
      minimum: 1,
      maximum: 10000,
    },
    exclusions: {
      type: 'array',
      description: 'Files of CRS exclusion rules, in CRS\'s own syntax: their SecRule/SecAction runtime exclusions (ctl:ruleRemoveTargetById …) run before the CRS rules, their SecRuleRemoveById/SecRuleUpdateTargetById directives apply after loading them. Default: [].',
      items: { type: 'string', minLength: 1, maxLength: 4096 },
      maxItems: 64,
      default: [],
    },
  },
};
