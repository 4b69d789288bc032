"""What printed documents say about themselves: the issuing body, the display timezone, paper
signatures (``config/documents.toml``), loaded and validated like the other rule files."""
from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from .toml_reader import ConfigError, TableReader, config_directory, read_toml

__all__ = ["DocumentRule", "load_document_rule"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
#: A unit ending so names a body that issues documents itself.
BODY_ENDINGS = ("局", "厅", "委员会", "中心")


@dataclass(frozen=True)
class DocumentRule:
    """The issuing bodies (national; provincial with ``{unit}``), the display zone, paper signatures."""

    issuer_national: str = "国家广播电视总局网络视听节目管理司"
    issuer_provincial: str = "{unit}广播电视局"
    timezone: str = "Asia/Shanghai"
    zone_label: str = "北京时间"
    paper_signatures: bool = True

    def issuer(self, *, provincial: bool, unit: str | None) -> str:
        """The body that issues a round's documents."""
        if provincial:
            if unit and unit.endswith(BODY_ENDINGS):  # the unit is already a body (浙江省广播电视局)
                return unit
            return self.issuer_provincial.replace("{unit}", unit or "省级")
        return self.issuer_national

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_document_rule(config_dir: Path | str | None = None) -> DocumentRule:
    """The rule from ``documents.toml`` (``TUIYOU_CONFIG`` or ``config/``); ConfigError names a bad key."""
    return _load_cached(config_directory(config_dir, DEFAULT_CONFIG_DIR))


@functools.lru_cache(maxsize=8)
def _load_cached(directory: Path) -> DocumentRule:
    path = directory / "documents.toml"
    if not path.exists():
        return DocumentRule()
    data = read_toml(path)
    TableReader(path.name, data).only("issuer", "time", "signatures")
    tables = {}
    for name in ("issuer", "time", "signatures"):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(path.name, name, "expected a table")
        tables[name] = TableReader(path.name, table, f"{name}.")
    default = DocumentRule()
    issuer, time, signatures = tables["issuer"], tables["time"], tables["signatures"]
    issuer.only("national", "provincial")
    time.only("timezone", "zone_label")
    signatures.only("paper")
    national = issuer.get("national", str, default.issuer_national).strip()
    provincial = issuer.get("provincial", str, default.issuer_provincial).strip()
    zone = time.get("timezone", str, default.timezone).strip()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise time.fail("timezone", f"{zone!r} is not an IANA timezone (e.g. Asia/Shanghai)") from None
    label = time.get("zone_label", str, default.zone_label).strip()
    return DocumentRule(national, provincial, zone, label, signatures.get("paper", bool, default.paper_signatures))
