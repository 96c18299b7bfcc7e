// The file `amphi scaler --config` reads: the scaler's settings (scaler/config.ts) and a
// `provider` section naming the cloud provider and its options. Secrets that open a cloud
// account (the webhook's shared secret, the Scaleway API key) come from the environment, never
// from the file; a static server's BBB secret is in the file, as `amphi servers add` takes it.
import { parse } from 'yaml';
import { z } from 'zod';
import type { ZodIssue } from 'zod';
import { parseScalerConfig } from './config.js';
import type { ScalerConfig } from './config.js';

/** Environment variables holding the providers' secrets. */
export const WEBHOOK_SECRET_ENV = 'AMPHI_SCALER_WEBHOOK_SECRET';
export const SCALEWAY_TOKEN_ENV = 'SCW_SECRET_KEY';

const tags = z.record(z.string());
const ms = z.number().int().min(0);

const providerSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('simulated'),
      /** From create to a server that answers (default 6 min). */
      bootDelayMs: ms.optional(),
      bootJitterMs: ms.optional(),
      failureRate: z.number().min(0).max(1).optional(),
      seed: z.number().int().optional(),
      /** The address the simulated servers listen on (default 127.0.0.1). */
      host: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('static'),
      servers: z
        .array(
          z
            .object({ id: z.string().min(1).optional(), apiUrl: z.string().url(), secret: z.string().min(1), sizeClass: z.string().min(1), tags: tags.optional() })
            .strict(),
        )
        .default([]),
    })
    .strict(),
  z
    .object({
      type: z.literal('webhook'),
      url: z.string().url(),
      timeoutMs: ms.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('scaleway'),
      zone: z.string().min(1),
      project: z.string().min(1),
      image: z.string().min(1),
      /** Scaler size class → Scaleway commercial type. */
      commercialTypes: z.record(z.string().min(1)),
      tags: z.array(z.string()).optional(),
      apiUrlTemplate: z.string().min(1).optional(),
      apiBase: z.string().url().optional(),
      timeoutMs: ms.optional(),
    })
    .strict(),
]);

export type ProviderSettings = z.output<typeof providerSchema>;

export type ScalerFileResult = { ok: true; config: ScalerConfig; provider: ProviderSettings } | { ok: false; errors: string[] };

const at = (path: (string | number)[]) => path.join('.');

function describe(issue: ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${at(['provider', ...issue.path, key])}: unknown key`);
  if (issue.code === 'invalid_union_discriminator') return [`provider.type: one of ${issue.options.join(', ')}`];
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return [`${at(['provider', ...issue.path])}: required (${issue.expected})`];
  return [`${at(['provider', ...issue.path])}: ${issue.message}`];
}

/** Parses the file's text; errors read `field.path: message`, like parseScalerConfig's. */
export function parseScalerFile(text: string, sizeClasses?: Readonly<Record<string, number>>): ScalerFileResult {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`(YAML): ${(err as Error).message.split('\n')[0]}`] };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, errors: ['(top level): expected a mapping of settings'] };
  const { provider, ...settings } = doc as Record<string, unknown>;
  const errors: string[] = [];
  const parsedSettings = parseScalerConfig(settings, sizeClasses);
  if (!parsedSettings.ok) errors.push(...parsedSettings.errors);
  let providerSettings: ProviderSettings | undefined;
  if (provider === undefined) errors.push('provider: required (a section with type: simulated, static, webhook or scaleway)');
  else {
    const parsed = providerSchema.safeParse(provider);
    if (parsed.success) providerSettings = parsed.data;
    else errors.push(...parsed.error.issues.flatMap(describe));
  }
  if (providerSettings && parsedSettings.ok) {
    const classes = parsedSettings.config.classes;
    if (providerSettings.type === 'scaleway') {
      for (const name of Object.keys(classes)) {
        if (!Object.hasOwn(providerSettings.commercialTypes, name)) errors.push(`provider.commercialTypes.${name}: required (the Scaleway commercial type of the scaled class "${name}")`);
      }
    }
    if (providerSettings.type === 'static') {
      providerSettings.servers.forEach((s, i) => {
        if (!Object.hasOwn(classes, s.sizeClass)) errors.push(`provider.servers.${i}.sizeClass: "${s.sizeClass}" is not among the scaled classes`);
      });
    }
  }
  if (errors.length > 0 || !parsedSettings.ok || !providerSettings) return { ok: false, errors };
  return { ok: true, config: parsedSettings.config, provider: providerSettings };
}
