/**
 * Evaluates a Terraform string template the way Terraform does for escapes: `$${` and `%%{`
 * become literal `${` and `%{`; each `${ expr }` interpolation is replaced by
 * `interpolate(expr)`. Throws on an unescaped `%{` directive (our templates use none).
 */
export function evaluateTemplate(
  template: string,
  interpolate: (expr: string) => string = (e) => `<<${e}>>`,
): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('$${', i)) {
      out += '${';
      i += 3;
    } else if (template.startsWith('%%{', i)) {
      out += '%{';
      i += 3;
    } else if (template.startsWith('%{', i)) {
      throw new Error(`unescaped template directive at ${i}: ${template.slice(i, i + 40)}`);
    } else if (template.startsWith('${', i)) {
      let depth = 1;
      let j = i + 2;
      let inString = false;
      while (depth > 0) {
        if (j >= template.length) throw new Error(`unterminated interpolation at ${i}`);
        const c = template[j];
        if (inString) {
          if (c === '\\') j++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}') depth--;
        j++;
      }
      out += interpolate(template.slice(i + 2, j - 1));
      i = j;
    } else {
      out += template[i];
      i++;
    }
  }
  return out;
}
