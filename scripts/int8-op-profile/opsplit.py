"""Rewrites a ModelOpt int8 TorchScript archive for scripts/int8-op-profile: adds op(k, vals), which runs forward's k-th
value line (names q_/u_/f_, the generators' temporaries t_, then the return) alone on vals (vals[0] the input), with
every helper line (other names: LibTorch's _N) inlined where it is read; writes DST (without the debug tables, whose
source ranges no longer match) and DST.steps.
  opsplit.py SRC.pt DST.pt"""
import re
import sys
import zipfile

src, dst = sys.argv[1], sys.argv[2]
zin = zipfile.ZipFile(src)
code_name = next(n for n in zin.namelist() if n.endswith("code/__torch__.py"))
code = zin.read(code_name).decode()
forward = code.split("  def forward(", 1)[1]
body = forward.split(":\n", 1)[1]
index = {"x": 0}  # value line name -> position in vals
helpers = {}      # helper name -> its inlined expression
steps = []
identifier = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def substitute(expression):
    for name, inlined in helpers.items():
        expression = re.sub(r"(?<![.\w])%s\b" % re.escape(name), lambda _, inlined=inlined: inlined, expression)
    return identifier.sub(lambda m: "vals[%d]" % index[m.group(0)] if m.group(0) in index else m.group(0), expression)


for line in (l.strip() for l in body.split("\n") if l.strip()):
    if line.startswith("return "):
        steps.append(("return", substitute(line[len("return "):])))
        continue
    name, expression = line.split(" = ", 1)
    if not re.match(r"[quft]_", name):
        inlined = substitute(expression)
        helpers[name] = inlined if expression.startswith(("[", "annotate")) else "(" + inlined + ")"
        continue
    steps.append((name, substitute(expression)))
    index[name] = len(index)

self_type = re.search(r"self: (__torch__\.[A-Za-z0-9_]+)", forward).group(1)
op = ["  def op(self: %s, k: int, vals: List[Tensor]) -> Tensor:" % self_type]
for i, (_, expression) in enumerate(steps):
    op.append("    %s k == %d:" % ("if" if i == 0 else "elif", i))
    op.append("      return %s" % expression)
op.append("    return vals[0]")
rewritten = code.rstrip("\n") + "\n" + "\n".join(op) + "\n"
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for name in zin.namelist():
        if not name.endswith(".debug_pkl"):
            zout.writestr(name, rewritten if name == code_name else zin.read(name))
with open(dst + ".steps", "w") as f:
    f.write("\n".join(name for name, _ in steps) + "\n")
