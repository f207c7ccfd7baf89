"""Which code trained a model: a short hash of its source, for the cache's keys.

Edit the loss, the model or the training loop, and the models they train get a new key, so
they are trained again instead of loaded. What is hashed is each function's or class's syntax
tree, written out in a fixed form of our own: comments, docstrings, blank lines and line breaks
do not count, and neither does the Python version (3.10 to 3.13 give the same hash), so a class
model pack made on one Python is used on another.

The hash is of the file as it is now; the code running in a kernel is the file as it was when
the kernel imported it. When the two differ (a helper edited while the kernel runs), the hash
would name a model of the old code by the new code's key, so `code_fingerprint` stops and asks
for a kernel restart instead.

This module imports nothing but the standard library, so the tests can run it under every
Python on the machine:

    python helpers/fingerprint.py helpers/train.py:fit helpers/vae.py:VAE
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import json
import sys
from functools import lru_cache
from pathlib import Path

# Node fields that say where a node is, or what type a value is meant to have: not what it does.
_IGNORED = {"lineno", "col_offset", "end_lineno", "end_col_offset", "type_comment", "annotation",
            "returns"}


def code_fingerprint(*refs) -> str:
    """A short hash of the source of the given functions, classes and module constants.

    Each ref is a function or class (found by its module and name), or a string
    "module.NAME" (e.g. "helpers.sparsity.EPS"), or a pair (file path, "NAME" or
    "Class.method"). Pass everything that decides how a model trains; nothing else counts."""
    h = hashlib.sha1()
    for ref in refs:
        path, qualname = where(ref)
        h.update(f"{qualname}\n{source_form(str(path), qualname)}\n".encode())
        if callable(ref):
            check_running(ref, path)
    return h.hexdigest()[:12]


def config_key(config: dict) -> str:
    """A short, stable hash of a JSON-able configuration: the part of a cache file's name
    after the model's name."""
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def where(ref) -> tuple[Path, str]:
    """(the file that defines `ref`, its qualified name there)."""
    if isinstance(ref, tuple):
        return Path(ref[0]), ref[1]
    if isinstance(ref, str):
        module_name, _, name = ref.rpartition(".")
        return Path(importlib.import_module(module_name).__file__), name
    ref = _unwrap(getattr(ref, "__func__", ref))     # a staticmethod, or a decorated function
    if isinstance(ref, type):
        module = sys.modules.get(ref.__module__)
        methods = [v for v in vars(ref).values() if hasattr(v, "__code__")]
        file = module.__file__ if module is not None else methods[0].__code__.co_filename
        return Path(file), ref.__qualname__
    return Path(ref.__code__.co_filename), ref.__qualname__


def source_form(path: str, qualname: str) -> str:
    """The definition of `qualname` in the file at `path`, as a canonical text."""
    stat = Path(path).stat()
    node = _definitions(path, stat.st_mtime_ns, stat.st_size).get(qualname)
    if node is None:
        raise LookupError(f"{qualname} is not defined at the top of {path} (a function, a "
                          f"class, a method or a constant)")
    return _canonical(node)


@lru_cache(maxsize=64)
def _definitions(path: str, _mtime_ns: int, _size: int) -> dict:
    """Every function, class, method and constant defined at the top of a file, by name
    (cached while the file stays as it is)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        found[f"{node.name}.{item.name}"] = item
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _canonical(node) -> str:
    """A node as text: its kind and its fields, leaving out positions, type annotations,
    docstrings and fields that are empty (newer Pythons add fields such as type_params, empty
    in our code)."""
    if isinstance(node, ast.AST):
        fields = []
        for name, value in ast.iter_fields(node):
            if name in _IGNORED or value is None or value == []:
                continue
            if name == "body" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                    ast.ClassDef)):
                value = _without_docstring(value)
            fields.append(f"{name}={_canonical(value)}")
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(_canonical(item) for item in node) + "]"
    return repr(node)


# --- is the running code the code in the file? ------------------------------------------------

def check_running(ref, path: Path) -> None:
    """Raise RuntimeError when the function or class `ref` that is running is not the one its
    file defines now (the file was edited after it was imported): compare the running code
    with the file's code compiled afresh."""
    ref = getattr(ref, "__func__", ref)
    if isinstance(ref, type):
        parts = [getattr(v, "__func__", getattr(v, "fget", v)) for v in vars(ref).values()]
    else:
        parts = [ref]
    stat = path.stat()
    compiled = _compiled(str(path), stat.st_mtime_ns, stat.st_size)
    for part in parts:
        code = getattr(_unwrap(part), "__code__", None)
        if code is None:
            continue
        fresh = compiled.get(part.__qualname__)
        if fresh is None or not _same_code(code, fresh):
            raise RuntimeError(
                f"{path.name} was changed after this kernel imported it: restart the kernel "
                f"(Kernel > Restart Kernel) to use the new code. (The cache names each model "
                f"by the code that trains it, and the code running here is the old one.)")


def _unwrap(fn):
    while hasattr(fn, "__wrapped__"):     # a decorated function, e.g. @torch.no_grad()
        fn = fn.__wrapped__
    return fn


@lru_cache(maxsize=64)
def _compiled(path: str, _mtime_ns: int, _size: int) -> dict:
    """Every code object the file compiles to, by qualified name (without <locals>)."""
    found = {}

    def walk(code, prefix):
        for const in code.co_consts:
            if hasattr(const, "co_code"):
                name = f"{prefix}{const.co_name}"
                found.setdefault(name, const)
                walk(const, f"{name}.")
    walk(compile(Path(path).read_text(encoding="utf-8"), path, "exec", dont_inherit=True), "")
    return found


def _same_code(a, b) -> bool:
    """The same instructions, names and non-text constants, nested functions included
    (docstrings and line numbers aside)."""
    if a.co_code != b.co_code or a.co_names != b.co_names:
        return False
    nested_a = [c for c in a.co_consts if hasattr(c, "co_code")]
    nested_b = [c for c in b.co_consts if hasattr(c, "co_code")]
    values_a = [c for c in a.co_consts if not hasattr(c, "co_code") and not isinstance(c, str)]
    values_b = [c for c in b.co_consts if not hasattr(c, "co_code") and not isinstance(c, str)]
    return (values_a == values_b and len(nested_a) == len(nested_b)
            and all(_same_code(x, y) for x, y in zip(nested_a, nested_b)))


def _without_docstring(body: list) -> list:
    first = body[0] if body else None
    is_docstring = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str))
    return body[1:] if is_docstring else body


if __name__ == "__main__":       # path:name ... -> one hash of them all, as code_fingerprint
    print(code_fingerprint(*(tuple(arg.rsplit(":", 1)) for arg in sys.argv[1:])))
