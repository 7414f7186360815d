"""`nexk compliance pack`: the auditor's evidence pack, HTML (opened in Chromium) and PDF (read back)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from playwright.sync_api import Browser, sync_playwright
from pypdf import PdfReader
from typer.testing import CliRunner

from compliance.cli import app
from compliance.pack.evidence import read_junit, yaml_line
from nexk.paths import REPO_ROOT
from nexk.subprocessors import load_register

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "test-artifacts"
CLAIM = "tests/compliance/test_register.py::test_the_organization_manifest_names_the_controller_and_the_supervisory_authority"
FAILED_CLAIM = "tests/compliance/test_render.py::test_the_rendered_english_policy_states_every_fact_of_the_published_policy"


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUnit report as pytest writes it (`--junitxml`), with one claim's test passed and one failed."""
    path = tmp_path_factory.mktemp("junit") / "junit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" '
        'skipped="0" tests="3" time="1.0" timestamp="2026-12-04T10:00:00.000000+00:00" hostname="ci">'
        '<properties><property name="commit" value="0123456789abcdef0123456789abcdef01234567"/></properties>'
        '<testcase classname="tests.compliance.test_register" '
        'name="test_the_organization_manifest_names_the_controller_and_the_supervisory_authority" time="0.1"/>'
        '<testcase classname="tests.compliance.test_render" '
        'name="test_the_rendered_english_policy_states_every_fact_of_the_published_policy[en]" time="0.1"/>'
        '<testcase classname="tests.compliance.test_render" '
        'name="test_the_rendered_english_policy_states_every_fact_of_the_published_policy[fr]" time="0.1">'
        '<failure message="boom">boom</failure></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, junit: Path) -> Path:
    out = tmp_path_factory.mktemp("pack") / "evidence"
    result = CliRunner().invoke(app, ["pack", "--out", str(out), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    return out


def test_the_pack_has_html_and_pdf_in_three_languages(pack: Path) -> None:
    assert sorted(p.name for p in pack.iterdir()) == [
        f"evidence-pack.{lang}.{ext}" for lang in ("en", "fr", "nl") for ext in ("html", "pdf")
    ]


@pytest.mark.parametrize("lang", ["en", "fr", "nl"])
def test_the_html_is_self_contained(pack: Path, lang: str) -> None:
    html = (pack / f"evidence-pack.{lang}.html").read_text(encoding="utf-8")

    assert f'<html lang="{lang}">' in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)  # no script, stylesheet, image or frame
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)  # nothing fetched from elsewhere
    assert "url(" not in html and "@import" not in html
    assert "@media print" in html and "<svg" in html
    # Headings and the register's translated labels are in the document's language.
    measure = {
        "en": "TLS 1.3 encryption in transit",
        "fr": "Chiffrement TLS 1.3",
        "nl": "TLS 1.3-versleuteling",
    }
    assert f"<strong>{measure[lang]}" in html


def test_the_junit_report_is_read_per_test_with_parameters_folded() -> None:
    path = REPO_ROOT / "test-artifacts" / "never-written.xml"
    assert read_junit(path).result(CLAIM) == "no report"


def test_the_map_shows_every_subprocessor_with_its_region_and_the_matrix_the_last_results(pack: Path) -> None:
    html = (pack / "evidence-pack.en.html").read_text(encoding="utf-8")
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)  # noqa: S314 (our own output): well-formed XML, as an SVG file would be

    for sub in load_register().subprocessors:
        assert sub.legal_entity in svg and sub.hosting_region[0] in svg
        assert f'data-subprocessor="{sub.key}"' in html
    assert "Vercel Inc. (vercel, USA)" in svg and "Transfer mechanism: SCC" in svg
    drawn = " ".join(re.sub(r"<[^>]+>", " ", svg).split())  # the text of the map, lines joined
    assert "clients" in drawn and "NexK agents and administrators" in drawn

    assert f'data-test="{CLAIM}" data-result="passed"' in html
    assert f'data-test="{FAILED_CLAIM}" data-result="failed"' in html  # one failed parameter fails the test
    assert re.search(r'data-result="not run"', html)  # tests absent from the report are said to be absent
    assert "2026-12-04T10:00:00" in html and "0123456789abcdef0123456789abcdef01234567" in html


def test_each_setting_points_at_the_line_that_sets_it(pack: Path) -> None:
    html = (pack / "evidence-pack.en.html").read_text(encoding="utf-8")
    prod = (REPO_ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8")

    value, line = yaml_line(prod, ("nexk:supabase", "region"))
    assert prod.splitlines()[line - 1].strip() == f"region: {value}"
    assert f"<code>Pulumi.prod.yaml:{line}</code>" in html
    failover = next(
        n
        for n, t in enumerate((REPO_ROOT / "infra/vercel_portal.py").read_text().splitlines(), 1)
        if "function_failover=" in t
    )
    assert f"<code>infra/vercel_portal.py:{failover}</code>" in html
    assert "Required CI checks (merge gate)" in html and "<code>make test</code>" in html


def test_the_history_comes_from_git(pack: Path) -> None:
    html = (pack / "evidence-pack.en.html").read_text(encoding="utf-8")
    last = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%h", "--", "compliance/subprocessors.yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert f"<code>{last}</code>" in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Data flows", "Record of processing activities", "Claims traceability matrix", "passed", "failed"]),
        ("fr", ["Flux de données", "Registre des activités de traitement", "Matrice de traçabilité", "réussi", "échec"]),
        ("nl", ["Gegevensstromen", "Register van de verwerkingsactiviteiten", "Traceerbaarheidsmatrix", "geslaagd", "mislukt"]),
    ],
)  # fmt: skip
def test_the_pdf_reads_back_in_its_language(pack: Path, lang: str, words: list[str]) -> None:
    reader = PdfReader(pack / f"evidence-pack.{lang}.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert len(reader.pages) >= 4
    for expected in words:
        assert expected in text
    for sub in load_register().subprocessors:
        assert sub.legal_entity in text
    assert "Pulumi.prod.yaml:" in text and "make test" in text


def test_pack_refuses_a_file_as_output_folder(tmp_path: Path) -> None:
    target = tmp_path / "pack.html"
    target.write_text("not a folder")

    result = CliRunner().invoke(app, ["pack", "--out", str(target)])

    assert result.exit_code != 0 and "is a file, not a folder" in str(result.exception or result.output)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_html_opens_offline_in_a_browser_and_is_screenshotted(
    pack: Path, browser: Browser, lang: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((pack / f"evidence-pack.{lang}.html").as_uri())

    assert [url for url in requests if not url.startswith("file://")] == []  # works offline
    assert page.locator("svg text").count() > 10
    box = page.locator("svg").bounding_box()
    assert box is not None and box["width"] > 900  # the map is drawn at the page's width
    assert page.locator("tr[data-subprocessor]").count() == len(load_register().subprocessors)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"evidence-pack-{lang}.png"), full_page=True)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", landscape=True, print_background=True)  # prints without error
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert shutil.which(CHROMIUM)
    page.close()


def test_make_test_writes_the_junit_report_the_pack_reads() -> None:
    from compliance.pack.evidence import JUNIT

    pytest_line = next(
        line for line in (REPO_ROOT / "Makefile").read_text().splitlines() if "$(BIN)/pytest" in line
    )
    assert f"--junitxml={JUNIT}" in pytest_line.split()


def test_a_report_without_the_commit_says_so(tmp_path: Path, junit: Path) -> None:
    bare = tmp_path / "junit.xml"
    bare.write_text(re.sub(r"<properties>.*</properties>", "", junit.read_text()), encoding="utf-8")

    result = CliRunner().invoke(app, ["pack", "--out", str(tmp_path / "pack"), "--junit", str(bare)])

    assert result.exit_code == 0, result.output
    html = (tmp_path / "pack" / "evidence-pack.en.html").read_text(encoding="utf-8")
    assert "commit not recorded (the run did not include db/tests" in html
