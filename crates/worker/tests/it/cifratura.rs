//! Result files at rest: a large file round-trips through age without being held in memory,
//! and only the right identity opens it.

use sha2::{Digest as _, Sha256};
use std::io::{self, BufWriter, Write};
use worker::cifratura::{ErroreCifratura, IdentitaFile, ScrittoreCifrato, cifra_file, decifra};

/// A sink that only hashes: the decrypted plaintext never accumulates anywhere.
struct SoloHash(Sha256, u64);

impl Write for SoloHash {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `mib` MiB of varied CSV-like text chunk by chunk; returns its SHA-256 and size.
fn file_grande(percorso: &std::path::Path, mib: usize) -> (String, u64) {
    let mut f = BufWriter::new(std::fs::File::create(percorso).unwrap());
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut i = 0u64;
    while n < (mib as u64) << 20 {
        let riga = format!(
            "{i:08};RSSMRA85T10A562S;TROVATO;via {} n. {}\n",
            i % 977,
            i % 31
        );
        f.write_all(riga.as_bytes()).unwrap();
        h.update(riga.as_bytes());
        n += riga.len() as u64;
        i += 1;
    }
    f.flush().unwrap();
    (hex::encode(h.finalize()), n)
}

#[test]
fn file_grande_andata_e_ritorno_in_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let chiaro = dir.path().join("risultato.csv");
    let (sha, byte) = file_grande(&chiaro, 16);
    let id = IdentitaFile::genera();
    let f = cifra_file(&chiaro, &id.destinatario()).unwrap();
    assert_eq!(f.percorso, dir.path().join("risultato.csv.age"));
    assert_eq!((f.sha256.as_str(), f.byte), (sha.as_str(), byte));
    // Ciphertext: the age header, then the plaintext in 64 KiB chunks with a 16-byte tag each.
    let cifrato = std::fs::metadata(&f.percorso).unwrap().len();
    assert!(cifrato > byte + (byte >> 16) * 16, "{cifrato} vs {byte}");
    let contenuto_iniziale = std::fs::read(&f.percorso).unwrap();
    assert!(contenuto_iniziale.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !contenuto_iniziale
            .windows(16)
            .any(|w| w == b"RSSMRA85T10A562S")
    );
    drop(contenuto_iniziale);
    let mut sink = SoloHash(Sha256::new(), 0);
    let (n, sha_dec) = decifra(&f.percorso, &id, &mut sink).unwrap();
    assert_eq!((n, sha_dec.as_str()), (byte, sha.as_str()));
    assert_eq!((sink.1, hex::encode(sink.0.finalize())), (byte, sha));
    // Only the encrypted file and the plaintext it came from: no temp file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn identita_sbagliata_non_decifra() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("r.csv.age");
    let giusta = IdentitaFile::genera();
    let mut s = ScrittoreCifrato::crea(&dest, &giusta.destinatario()).unwrap();
    s.write_all("codice_fiscale;esito\nRSSMRA85T10A562S;TROVATO\n".as_bytes())
        .unwrap();
    let f = s.completa().unwrap();
    // "codice_fiscale;esito\n" is 21 bytes, the row 25.
    assert_eq!(f.byte, 46);
    let altra = IdentitaFile::genera();
    let mut out = Vec::new();
    let e = decifra(&dest, &altra, &mut out).unwrap_err();
    assert!(matches!(e, ErroreCifratura::Decifratura { .. }), "{e:?}");
    assert!(e.to_string().contains("identità diversa"), "{e}");
    assert!(out.is_empty());
    decifra(&dest, &giusta, &mut out).unwrap();
    assert_eq!(out, b"codice_fiscale;esito\nRSSMRA85T10A562S;TROVATO\n");
}

#[test]
fn file_alterato_non_decifra() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("r.csv.age");
    let id = IdentitaFile::genera();
    let mut s = ScrittoreCifrato::crea(&dest, &id.destinatario()).unwrap();
    s.write_all(&[b'x'; 200_000]).unwrap();
    s.completa().unwrap();
    let mut byte = std::fs::read(&dest).unwrap();
    let meta = byte.len() / 2;
    byte[meta] ^= 1;
    std::fs::write(&dest, byte).unwrap();
    let e = decifra(&dest, &id, &mut io::sink()).unwrap_err();
    assert!(matches!(e, ErroreCifratura::Decifratura { .. }), "{e:?}");
}
