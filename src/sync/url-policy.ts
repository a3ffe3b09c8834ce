/**
 * Where an environment's deliveries may go. Sync refuses to start on a base URL that breaks
 * these rules, and `jobstash doctor` reports the same problems in the same words.
 */

/** Options of {@link baseUrlProblems}. */
export interface UrlPolicyOptions {
  /** Accept a per-deployment host in production. @default false */
  allowPreviewUrl?: boolean;
}

/** Environments whose deliveries may go to a local or plain-http URL. */
function isLocal(env: string): boolean {
  return /^(dev|development|local|test)$/i.test(env);
}

function isProduction(env: string): boolean {
  return /^(prod|production)$/i.test(env);
}

/**
 * Hosts that name one deployment rather than the app: schedules pointing there keep firing
 * at an old build (or at nothing once it is deleted).
 *
 * @example
 * perDeploymentHost("acme-git-main-team.vercel.app"); // "a Vercel deployment or preview host"
 */
export function perDeploymentHost(host: string): string | undefined {
  if (/\.vercel\.app$/i.test(host) && /-git-|-[a-z0-9]{9}(-[a-z0-9-]+)?\.vercel\.app$/i.test(host)) {
    return "a Vercel deployment or preview host";
  }
  if (/--[a-z0-9-]+\.netlify\.app$/i.test(host)) return "a Netlify deploy-preview host";
  if (/^[0-9a-f]{8}\.[a-z0-9-]+\.pages\.dev$/i.test(host)) return "a Cloudflare Pages deployment host";
  return undefined;
}

/**
 * What is wrong with delivering `env`'s jobs to `baseUrl` (an absolute URL), each problem
 * saying what to fix: outside development it must be https, and in production it must not
 * name one deployment unless `allowPreviewUrl`.
 *
 * @example
 * baseUrlProblems("http://example.com/api/jobs", "production"); // ["JOBSTASH_BASE_URL ... is not https; ..."]
 */
export function baseUrlProblems(baseUrl: string, env: string, options: UrlPolicyOptions = {}): string[] {
  if (isLocal(env)) return [];
  const problems: string[] = [];
  const url = new URL(baseUrl);
  if (url.protocol !== "https:") {
    problems.push(
      `JOBSTASH_BASE_URL ${baseUrl} is not https; QStash delivers ${env} jobs to a public https URL (e.g. https://example.com/api/jobs)`,
    );
  }
  const kind = perDeploymentHost(url.hostname);
  if (kind && isProduction(env) && !options.allowPreviewUrl) {
    problems.push(
      `JOBSTASH_BASE_URL ${baseUrl} looks like ${kind}; production schedules would follow that one deployment. Use the production domain, or pass --allow-preview-url if this is intended`,
    );
  }
  return problems;
}
