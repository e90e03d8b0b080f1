"""docs/workflows.md is generated from the state tables and must say what they say."""

from __future__ import annotations

from ecqs import workflows
from ecqs.services import workflow_docs


def test_committed_workflow_docs_match_the_state_tables(app):
    committed = workflow_docs.DOCS_PATH.read_text(encoding="utf-8")
    assert committed == workflow_docs.render(), (
        "docs/workflows.md no longer matches the state tables: run `make docs` and commit it"
    )


def test_every_registered_workflow_and_transition_is_drawn(app):
    text = workflow_docs.render()
    for wf in workflows.WORKFLOWS.values():
        assert f"### {wf.name}\n" in text
        for t in wf.transitions:
            assert f"| `{t.action}` | {t.label} |" in text


def test_the_command_writes_the_page(app, tmp_path):
    out = tmp_path / "workflows.md"
    result = app.test_cli_runner().invoke(args=["workflows", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == workflow_docs.render()


def test_readme_points_to_the_page_and_make_docs_builds_it():
    root = workflow_docs.DOCS_PATH.parent.parent
    assert "(docs/workflows.md)" in (root / "README.md").read_text(encoding="utf-8")
    assert "\ndocs: " in (root / "Makefile").read_text(encoding="utf-8")
