"""The verification page (`pulih web`, a real process on loopback) as the world reaches it:
every issued document's QR holds its page's address; unknown and malformed codes get the
same answer byte for byte; checks beyond the rate get 429; an upload is never kept and one
too large is refused; whatever a record holds is escaped; no answer carries a script."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import bootstrap
from bot.demo.lab.loopback import free_port
from bot.services.documents.letters import MAX_UPLOAD, issue_letter
from bot.services.documents.registry import issue_document
from bot.settings import load_settings
from letters.facts import Official
from tests.support.clock import running
from tests.support.office import NOW
from tests.support.pdf import pdf_text, squash
from tests.support.qr import qr_of_first_page
from tests.support.verify_site import Site, the_office, verify_page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = the_office(tmp_path_factory.mktemp("kantor"), free_port())
    with verify_page(site):
        yield site


def upload(url: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(url, files={"berkas": ("surat.pdf", content, "application/pdf")},
                      headers=headers, timeout=60)


@pytest.mark.parametrize("kind", ["disposisi", "laporan", "surat_pemberitahuan"])
def test_the_qr_and_the_footer_of_an_issued_letter_give_its_page(
        site: Site, kind: str, tmp_path: Path) -> None:
    letter = site.documents[kind]
    page = f"{site.base}/v/{letter.code}"
    assert qr_of_first_page(letter.pdf, tmp_path) == page
    assert squash(f"Periksa keaslian dokumen ini di {page}") in squash(
        pdf_text(letter.pdf, tmp_path))
    answer = httpx.get(page)
    assert answer.status_code == 200 and letter.code in answer.text


def test_without_a_verification_address_the_qr_holds_the_code(
        site: Site, tmp_path: Path) -> None:
    env = {k: v for k, v in site.env.items() if k != "PULIH_VERIFY_URL"}
    container = bootstrap(load_settings(environ=env), running())
    try:
        letter = issue_letter(container, "disposisi", "1")
    finally:
        container.close()
    assert qr_of_first_page(letter.content, tmp_path) == \
        f"Pulih - kode verifikasi dokumen: {letter.code}"


def test_unknown_and_malformed_codes_are_answered_byte_for_byte_alike(site: Site) -> None:
    real = site.documents["disposisi"].code
    near = real[:-1] + ("2" if real[-1] != "2" else "3")  # one character off: unknown
    answers = [httpx.get(f"{site.base}/v/{code}") for code in
               (near, "0000-0000-00", "x", "%3Cb%3E", "a/b/c", "A" * 5000)]
    answers.append(httpx.get(f"{site.base}/cek", params={"kode": "'; DROP TABLE documents"}))
    answers.append(upload(f"{site.base}/v/{near}", site.documents["disposisi"].pdf))
    answers.append(upload(f"{site.base}/v/tidak-ada", site.documents["disposisi"].pdf))
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert "TIDAK DAPAT DIKONFIRMASI" in answers[0].text
    assert httpx.get(f"{site.base}/v/{real}").status_code == 200  # the table is still there


def test_checks_beyond_the_rate_get_429_with_when_to_try_again(site: Site) -> None:
    code = site.documents["laporan"].code
    with verify_page(site, rate=5, port=free_port()) as base:
        answers = [httpx.get(f"{base}/v/{code}") for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        refused = httpx.get(f"{base}/v/{code}")
        assert refused.status_code == 429
        assert "TERLALU BANYAK PEMERIKSAAN" in refused.text
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 61 and f"dalam {wait} detik" in refused.text
        # Unknown codes and uploads count alike: guessing is no cheaper.
        assert httpx.get(f"{base}/v/ZZZZ-ZZZZ-ZZ").status_code == 429
        assert upload(f"{base}/berkas", b"%PDF-1.7").status_code == 429
        # Another client behind the office's reverse proxy has its own allowance.
        other = httpx.get(f"{base}/v/{code}", headers={"X-Forwarded-For": "198.51.100.7"})
        assert other.status_code == 200
        # The pages that check nothing stay open.
        assert httpx.get(f"{base}/").status_code == 200


def test_an_upload_is_never_kept_and_one_too_large_is_refused(
        site: Site, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    before = sorted(p.relative_to(site.data_dir) for p in site.data_dir.rglob("*"))
    with verify_page(site, port=free_port(), tmp=scratch) as base:
        big = b"%PDF-1.7\n" + b"0" * (MAX_UPLOAD - 100)  # under the limit, above any spool
        answer = upload(f"{base}/berkas", big)
        assert answer.status_code == 200 and "TIDAK SAMA" in answer.text
        assert hashlib.sha256(big).hexdigest() in answer.text
        too_big = upload(f"{base}/berkas", b"0" * (MAX_UPLOAD + 200_000))
        assert too_big.status_code == 413 and "BERKAS TERLALU BESAR" in too_big.text
        assert "10,0 MiB" in too_big.text
        empty = httpx.post(f"{base}/berkas", content=b"kode=1",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert empty.status_code == 400 and "BELUM ADA BERKAS" in empty.text
        assert list(scratch.iterdir()) == []
    after = sorted(p.relative_to(site.data_dir) for p in site.data_dir.rglob("*"))
    assert after == before


def test_what_a_record_holds_is_shown_escaped(site: Site) -> None:
    container = bootstrap(load_settings(environ=site.env), running())
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    try:
        with container.unit_of_work() as session:
            code = issue_document(
                session, kind="laporan_uji", content=b"%PDF-1.7 uji", now=NOW,
                folder=site.data_dir / "documents", number=f"{hostile}/1", issuer=hostile,
                signer=Official(hostile, f"Kepala {hostile}")).verification_code
    finally:
        container.close()
    answer = httpx.get(f"{site.base}/v/{code}")
    assert answer.status_code == 200
    assert "<script" not in answer.text and "<img" not in answer.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text


def test_every_answer_has_the_security_headers_and_no_script(site: Site) -> None:
    answers = [httpx.get(f"{site.base}{path}") for path in
               ("/", f"/v/{site.documents['laporan'].code}", "/v/ZZZZ-ZZZZ-ZZ", "/tidak-ada",
                "/cek?kode=x")]
    answers.append(upload(f"{site.base}/berkas", site.documents["laporan"].pdf))
    answers.append(httpx.delete(f"{site.base}/"))
    for answer in answers:
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"
        assert "<script" not in answer.text.lower()
        assert not re.search(r"https?://(?!127\.0\.0\.1)", answer.text)  # nothing external
        assert "server" not in answer.headers
    assert answers[-1].status_code == 405 and "HALAMAN TIDAK ADA" in answers[-1].text
    style = httpx.get(f"{site.base}/gaya.css")
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
