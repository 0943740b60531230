//! XLSX input through calamine, one sheet row at a time.

use std::io::{Read, Seek, SeekFrom};

use calamine::{DataRef, Reader, Xlsx};

use super::record::{Campo, MAX_COLONNE, Record};
use super::{Limiti, RifiutoFile};

/// Refuses a workbook whose entries would decompress past the limit. The central directory's
/// declared sizes are enough: the zip reader calamine uses stops any entry that inflates past
/// its declared size, so a lying header cannot get around this check.
fn controlla_decompresso<RS: Read + Seek>(rs: &mut RS, limite: u64) -> Result<(), RifiutoFile> {
    let mut archivio =
        zip::ZipArchive::new(&mut *rs).map_err(|e| RifiutoFile::XlsxIlleggibile {
            dettaglio: e.to_string(),
        })?;
    let mut totale: u64 = 0;
    for i in 0..archivio.len() {
        let voce = archivio
            .by_index_raw(i)
            .map_err(|e| RifiutoFile::XlsxIlleggibile {
                dettaglio: e.to_string(),
            })?;
        totale = totale.saturating_add(voce.size());
        if totale > limite {
            return Err(RifiutoFile::XlsxTroppoGrande { limite });
        }
    }
    Ok(())
}

/// Calls `ogni` with each non-empty row of the first sheet, numbered by sheet row.
pub(crate) fn leggi<RS: Read + Seek>(
    mut rs: RS,
    limiti: &Limiti,
    mut ogni: impl FnMut(Record) -> Result<(), RifiutoFile>,
) -> Result<(), RifiutoFile> {
    controlla_decompresso(&mut rs, limiti.max_decompresso)?;
    rs.seek(SeekFrom::Start(0))
        .map_err(|e| RifiutoFile::lettura(&e))?;
    let illeggibile = |e: calamine::XlsxError| RifiutoFile::XlsxIlleggibile {
        dettaglio: e.to_string(),
    };
    let mut libro: Xlsx<RS> = Xlsx::new(rs).map_err(illeggibile)?;
    let Some(foglio) = libro.sheet_names().into_iter().next() else {
        return Err(RifiutoFile::Vuoto);
    };
    let mut celle = libro.worksheet_cells_reader(&foglio).map_err(illeggibile)?;
    let mut corrente: Option<Record> = None;
    while let Some(cella) = celle.next_cell().map_err(illeggibile)? {
        let (riga, colonna) = cella.get_position();
        let riga = u64::from(riga) + 1;
        if corrente.as_ref().is_some_and(|r| r.riga != riga) {
            ogni(corrente.take().expect("just checked"))?;
        }
        let rec = corrente.get_or_insert_with(|| Record {
            riga,
            campi: Vec::new(),
            troppe_colonne: false,
            virgolette_aperte: false,
        });
        metti(rec, colonna as usize, cella.get_value(), limiti.max_campo);
    }
    if let Some(rec) = corrente {
        ogni(rec)?;
    }
    Ok(())
}

fn metti(rec: &mut Record, colonna: usize, valore: &DataRef<'_>, max_campo: usize) {
    let mut campo = testo_cella(valore);
    if campo.testo.is_empty() {
        return;
    }
    if colonna >= MAX_COLONNE {
        rec.troppe_colonne = true;
        return;
    }
    if campo.testo.chars().count() > max_campo {
        campo.troppo_lungo = true;
        campo.testo = campo.testo.chars().take(max_campo).collect();
    }
    if rec.campi.len() <= colonna {
        rec.campi.resize(colonna + 1, Campo::testo(""));
    }
    rec.campi[colonna] = campo;
}

/// Every cell is read as text (DESIGN §5).
fn testo_cella(valore: &DataRef<'_>) -> Campo {
    let numero = |testo: String| Campo {
        testo,
        numerico: true,
        troppo_lungo: false,
    };
    match valore {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            Campo::testo(s.as_str())
        }
        DataRef::SharedString(s) => Campo::testo(*s),
        DataRef::Int(i) => numero(i.to_string()),
        // Integers up to 2^53 are exact in a double; an 11-digit CF is far below that.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => numero(format!("{f:.0}")),
        DataRef::Float(f) => numero(f.to_string()),
        DataRef::Bool(true) => Campo::testo("VERO"),
        DataRef::Bool(false) => Campo::testo("FALSO"),
        DataRef::DateTime(d) => Campo::testo(d.to_string()),
        DataRef::Error(e) => Campo::testo(e.to_string()),
        DataRef::Empty => Campo::testo(""),
    }
}
