"""The product's files import one another without cycles (the folder rules themselves are
`lint-imports` contracts in pyproject.toml, run by CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.support.office import write_inventory

PACKAGES = ("bot", "handlers", "restore", "letters")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import one another, directly or through others (Tarjan's
    strongly connected components, iteratively), each as sorted names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(
                        graph.find_modules_directly_imported_by(target)))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_file_of_the_product_imports_itself_back_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert len(graph.modules) > 100  # the whole product was read
    assert cycles(graph) == []


def test_the_cycle_finder_names_a_cycle_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.one", "a.two", "a.three", "a.alone"):
        graph.add_module(name)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.three")
    graph.add_import(importer="a.three", imported="a.one")
    graph.add_import(importer="a.alone", imported="a.one")
    assert cycles(graph) == [["a.one", "a.three", "a.two"]]


def test_the_benchmarks_run_on_the_lab_without_the_test_runner() -> None:
    """One lab (bot.demo.lab) for the demo, the tests and the benchmarks: a benchmark
    imports no pytest, directly or through the test helpers it shares."""
    benchmarks = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "benchmarks")
                        .glob("*.py") if p.stem != "__init__")
    assert "lab_office" in benchmarks and "sop_cycle" in benchmarks
    code = (f"import sys\nfor name in {benchmarks!r}: __import__('benchmarks.' + name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).resolve().parents[2])
    assert shown.stdout.strip() == "[]"


def test_a_restore_process_does_not_carry_the_document_engine(tmp_path: Path) -> None:
    """A restore (the bot's runner, `pulih restore`) reads the office's facts but makes no
    document: fpdf, its fonts and numpy stay out of its memory until a document is made."""
    inventory = write_inventory(tmp_path / "office")
    code = ("import sys\n"
            "import bot.cli, bot.services.restores.teamwork, restore.engine\n"
            "from bot.bootstrap import OfficeFacts\n"
            "from pathlib import Path\n"
            "from bot.inventory.loader import load_inventory\n"
            "from bot.services.documents.stationery import Stationery\n"
            f"inventory = load_inventory(Path({str(inventory)!r}))\n"
            "facts = OfficeFacts(inventory.team_chat_id, Stationery.from_inventory(inventory))\n"
            "print(sorted(m for m in ('fpdf', 'fontTools', 'numpy') if m in sys.modules))\n"
            "facts.stationery.setup\n"
            "print('fpdf' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).resolve().parents[2])
    assert shown.stdout.split("\n")[:2] == ["[]", "True"]
