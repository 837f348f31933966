"""The README's and docs/api.md's shell blocks run, in order, against a live server
(scripts/doc_blocks.py); a step that breaks fails the run and names its block."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"


def load_runner():
    spec = importlib.util.spec_from_file_location("doc_blocks", ROOT / "scripts" / "doc_blocks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("doc_blocks", module)
    spec.loader.exec_module(module)
    return module


doc_blocks = load_runner()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    directory = tmp_path_factory.mktemp("doc-blocks")
    with (directory / "server.log").open("w") as log, doc_blocks.live_server(directory, log) as url:
        yield url


def test_only_sh_blocks_run_and_a_marked_one_is_skipped():
    text = "\n".join(
        [
            "```sh",
            "echo one",
            "```",
            "```json",
            '{"not": "run"}',
            "```",
            "<!-- not run: it starts the server -->",
            "```sh",
            "make run",
            "```",
            "```sh",
            "echo two",
            "```",
        ]
    )
    found = doc_blocks.blocks(text, "x.md")
    assert [(b.source, b.code) for b in found] == [("x.md:1", "echo one"), ("x.md:11", "echo two")]


def test_the_readme_quick_start_and_every_api_md_block_pass_against_a_live_server(base):
    for name in ("README.md", "docs/api.md"):
        steps = doc_blocks.blocks((ROOT / name).read_text(), name)
        assert steps, name
        result = doc_blocks.run(steps, base)
        assert result.returncode == 0, result.stdout + result.stderr
    # The walk-through reached the simulator's join page and Kaleyra's two signed endpoints.
    assert "/kaleyra-simulator/join/" in result.stdout
    assert '{"event":"on_room_deleted"' in result.stdout


def test_a_step_without_its_identity_headers_fails_the_run_and_names_its_block(base):
    text = API_DOC.read_text()
    adding = 'curl -s -X POST $BASE/teleconsultation/$ROOM/participants/data "${DOCTOR[@]}"'
    assert adding in text
    steps = doc_blocks.blocks(text.replace(adding, adding.replace(' "${DOCTOR[@]}"', "")), "api")
    step = next(s for s in steps if "participants/data" in s.code)
    result = doc_blocks.run(steps, base)
    assert result.returncode != 0
    assert f"FAILED in the block at {step.source}" in result.stderr
    assert "401" in result.stderr  # curl names the status; the body follows on stdout
    assert "Unauthorized user" in result.stdout


def test_a_join_page_that_does_not_open_fails_the_run(base):
    text = API_DOC.read_text().replace("Simulated call in", "A page that is not there")
    result = doc_blocks.run(doc_blocks.blocks(text, "api"), base)
    assert result.returncode != 0
    assert "FAILED in the block at api:" in result.stderr
