#!/usr/bin/env python3
"""Renders src-tauri/packaging/windows/installer.nsi the way Tauri's bundler does on Windows.

    render-nsis.py TEMPLATE OUTPUT name=value...

Only plain `{{name}}` placeholders are supported, each escaped for an NSIS string exactly like
Tauri's bundler escapes them; any other Handlebars construct, or a placeholder without a value,
is an error, so the template stays one that both builders render the same way. The output is
UTF-8 with a BOM, as Tauri writes it.
"""

import re
import sys

PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")


def escape(value: str) -> str:
    out = []
    for c in value:
        out.append(
            {
                '"': '$\\"',
                "$": "$$",
                "`": "$\\`",
                "\n": "$\\n",
                "\t": "$\\t",
                "\r": "$\\r",
            }.get(c, c)
        )
    return "".join(out)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    template, output, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    values = dict(pair.split("=", 1) for pair in pairs)
    text = open(template, encoding="utf-8").read()
    errors = []

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            errors.append(f"unsupported Handlebars construct {match.group(0)!r}")
            return ""
        if name not in values:
            errors.append(f"no value for {{{{{name}}}}}")
            return ""
        return escape(values[name])

    rendered = PLACEHOLDER.sub(substitute, text)
    unused = set(values) - set(PLACEHOLDER.findall(text))
    if unused:
        errors.append(f"values the template does not use: {sorted(unused)}")
    if errors:
        for error in errors:
            print(f"render-nsis: {error}", file=sys.stderr)
        return 1
    with open(output, "w", encoding="utf-8-sig") as f:
        f.write(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
