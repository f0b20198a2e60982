/**
 * Keeps known secret values (the PMM admin password, its basic-auth form, an enrolment
 * password) out of everything the reconciler prints, throws or returns. A second
 * line of defence: messages are built without secrets in the first place (pmm-transport.ts).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Adds values to hide, with their URL-encoded forms (as they would appear in a URL). */
  add(...values: (string | undefined)[]): void {
    for (const v of values) {
      // Very short values would redact ordinary text and protect nothing.
      if (v === undefined || v.length < 4) continue;
      this.secrets.add(v);
      this.secrets.add(encodeURIComponent(v));
      this.secrets.add(JSON.stringify(v).slice(1, -1));
    }
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /** A deep copy of a JSON-shaped value with every string redacted. */
  redactValue<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }

  /** A log sink that redacts every entry before writing it. */
  wrap(log: (entry: Record<string, unknown>) => void): (entry: Record<string, unknown>) => void {
    return (entry) => log(this.redactValue(entry));
  }
}
