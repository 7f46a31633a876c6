/**
 * Whether the environment variable `name` turns a default-on feature off:
 * set to `0` (surrounding spaces ignored). Unset or anything else leaves it on.
 */
export function switchedOff(name: string): boolean {
  return (process.env[name] ?? '').trim() === '0';
}
