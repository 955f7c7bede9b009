"""An uploaded file, read from a multipart form into memory with a size cap: it is hashed
and dropped, never written to disk, and nothing in it is parsed or run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import File, create_form_parser

FIELD = b"berkas"  # the form's file field


class TooLarge(Exception):
    """The body is larger than the page accepts."""


class NotAForm(Exception):
    """The body is no multipart form with one file in the field the page asks for."""


@dataclass(frozen=True)
class Upload:
    content: bytes


async def read_upload(content_type: str, body: AsyncIterator[bytes], limit: int) -> Upload:
    """The file in the form's `berkas` field. Raises TooLarge past `limit` bytes of body,
    NotAForm for anything else but a form with that file."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise NotAForm
    found: list[bytes] = []

    def on_file(file: File) -> None:
        if file.field_name == FIELD and file.in_memory:
            file.file_object.seek(0)
            found.append(file.file_object.read())

    try:
        # A file stays in memory whatever its size: the body's cap bounds it.
        parser = create_form_parser({"Content-Type": content_type.encode("latin-1")},
                                    None, on_file,
                                    config={"MAX_MEMORY_FILE_SIZE": float("inf"),
                                            "UPLOAD_KEEP_FILENAME": False})
        received = 0
        async for chunk in body:
            received += len(chunk)
            if received > limit:
                raise TooLarge
            parser.write(chunk)
        parser.finalize()
    except (FormParserError, ValueError, UnicodeError) as exc:
        raise NotAForm from exc
    if len(found) != 1 or not found[0]:
        raise NotAForm
    return Upload(found[0])
