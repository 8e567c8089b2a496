"""A Word package (OPC: a zip of XML parts) read straight from its zip: content types, each
part's relationships, the main document part with its numbering, styles, header and footer parts,
each parsed with lxml (entities not resolved, nothing fetched).

python-docx's ``Document()`` inflated and parsed every part of the package (images, settings,
fonts, core properties) and wrapped each element in a proxy class before a line was read; this
reads only the parts the letter's text needs. Failures that ``Document()`` turned into error rows
give the same rows: no main-document relationship, a main part missing from the zip or without a
content type, a main part that is not a Word document (a spreadsheet), a
numbering, styles, header or footer part that a relationship names but the zip lacks, malformed
XML in the parts read. What ``Document()`` refused and this reads: damage in parts the text never
uses (a relationship to an image the zip lacks, a malformed settings.xml, a CRC error inside an
image), and a malformed styles.xml when no paragraph's numbering can depend on the styles.
"""
from __future__ import annotations

import posixpath
import threading
import zipfile
from pathlib import Path

from lxml import etree


_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_PR_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RT_OFFICE_DOCUMENT = R_NS + "/officeDocument"
RT_NUMBERING = R_NS + "/numbering"
RT_STYLES = R_NS + "/styles"
RT_HEADER = R_NS + "/header"
RT_FOOTER = R_NS + "/footer"
EXTERNAL = "target_part property on _Relationship is undefined when target mode is External"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
CT_DOCUMENT = _WML + "document.main+xml"
# a macro-enabled document (.docm): the same WordprocessingML; its macros (vbaProject.bin) are never read
CT_DOCUMENT_MACROS = "application/vnd.ms-word.document.macroEnabled.main+xml"
CT_NUMBERING = _WML + "numbering+xml"
CT_STYLES = _WML + "styles+xml"
CT_HEADER = _WML + "header+xml"
CT_FOOTER = _WML + "footer+xml"
# the content types python-docx parsed as XML: a relationship to any other part gave no element
XML_PARTS = {CT_DOCUMENT, CT_DOCUMENT_MACROS, CT_NUMBERING, CT_STYLES, CT_HEADER, CT_FOOTER, _WML + "settings+xml",
              _WML + "comments+xml", "application/vnd.openxmlformats-package.core-properties+xml"}

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers must not be shared between threads). Entities are not
    resolved and nothing is fetched. (python-docx also dropped blank text between elements; the
    readers never look at it, and keeping it parses faster.)"""
    p = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return p


def parse_xml(blob: bytes):
    return etree.fromstring(blob, _parser())


class Rel:
    __slots__ = ("rid", "reltype", "target", "external")

    def __init__(self, rid, reltype, target, external):
        self.rid, self.reltype, self.target, self.external = rid, reltype, target, external


class Package:
    """An OPC package (a zip): content types, and each part's relationships, read on demand."""

    def __init__(self, z: zipfile.ZipFile):
        self.z = z
        self.names = set(z.namelist())
        root = parse_xml(z.read("[Content_Types].xml"))
        self.overrides: dict[str, str] = {}
        self.defaults: dict[str, str] = {}
        for el in root:
            if el.tag == f"{{{_CT_NS}}}Override":
                self.overrides[(el.get("PartName") or "").lower()] = el.get("ContentType")
            elif el.tag == f"{{{_CT_NS}}}Default":
                self.defaults[(el.get("Extension") or "").lower()] = el.get("ContentType")

    def content_type(self, partname: str) -> str:
        ct = self.overrides.get(partname.lower())
        if ct is None:
            ext = posixpath.splitext(partname)[1]
            ct = self.defaults.get(ext[1:].lower() if ext.startswith(".") else ext.lower())
        if ct is None:
            raise KeyError(f"no content type for partname '{partname}' in [Content_Types].xml")
        return ct

    def rels(self, partname: str) -> dict[str, Rel]:
        """The relationships of a part ('/' for the package), by id; targets as absolute part names."""
        base, name = posixpath.split(partname)
        member = posixpath.join(base, "_rels", name + ".rels")[1:]
        out: dict[str, Rel] = {}
        if member not in self.names:
            return out
        for el in parse_xml(self.z.read(member)):
            if el.tag != f"{{{_PR_NS}}}Relationship":
                continue
            external = el.get("TargetMode", "Internal") == "External"
            target = el.get("Target")
            if not external:
                target = posixpath.abspath(posixpath.join(base, target))
            out[el.get("Id")] = Rel(el.get("Id"), el.get("Type"), target, external)
        return out

    def read(self, partname: str) -> bytes:
        return self.z.read(partname[1:])  # KeyError when the zip lacks it, as zipfile says

    @staticmethod
    def related(rels: dict[str, Rel], reltype: str) -> Rel:
        matching = [r for r in rels.values() if r.reltype == reltype]
        if not matching:
            raise KeyError(f"no relationship of type '{reltype}' in collection")
        if len(matching) > 1:
            raise ValueError(f"multiple relationships of type '{reltype}' in collection")
        return matching[0]


def load_parts(pkg: Package, rels: dict[str, Rel], parts: dict[str, tuple]) -> None:
    """The main part's numbering, styles, header and footer parts into ``parts`` (by part name:
    content type and parsed root, None when the part is not XML), so a missing or broken one fails
    as it did in ``Document()``, which parsed them all when it opened the file. The styles are
    only looked up here (a template's styles.xml is hundreds of kB, and most letters do not need
    it): ``_styles_root`` parses them when the numbering does need them."""
    for r in rels.values():
        if r.external or r.target in parts or r.reltype not in (RT_NUMBERING, RT_STYLES, RT_HEADER, RT_FOOTER):
            continue
        ct = pkg.content_type(r.target)
        if r.reltype == RT_STYLES and ct == CT_STYLES:
            pkg.z.getinfo(r.target[1:])  # KeyError when the zip lacks it, as zipfile says
            parts[r.target] = (ct, LATER)
            continue
        blob = pkg.read(r.target)
        parts[r.target] = (ct, parse_xml(blob) if ct in XML_PARTS else None)


LATER = object()


def open_main(path: Path, pkg: Package):
    main = Package.related(pkg.rels("/"), RT_OFFICE_DOCUMENT)
    if main.external:
        raise ValueError(EXTERNAL)
    ct = pkg.content_type(main.target)
    blob = pkg.read(main.target)
    rels = pkg.rels(main.target)
    parts: dict[str, tuple] = {}
    load_parts(pkg, rels, parts)
    if ct not in (CT_DOCUMENT, CT_DOCUMENT_MACROS):
        raise ValueError(f"file '{path}' is not a Word file, content type is '{ct}'")
    return parse_xml(blob), rels, parts


def related_part(rels: dict[str, Rel], parts: dict, reltype: str) -> tuple:
    """(content type, root) of the part related by ``reltype``, (None, None) when there is none;
    two such relationships, or an external one, are an error, as in python-docx."""
    try:
        r = Package.related(rels, reltype)
    except KeyError:
        return None, (None, None)
    if r.external:
        raise ValueError(EXTERNAL)
    return r.target, parts.get(r.target, (None, None))
