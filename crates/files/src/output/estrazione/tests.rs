//! Hand-written `datiSoggetto` objects shaped as NOTES §2.3, §2.6 and §5 describe them.

use super::*;
use crate::output::catalogo::CATALOGO;
use serde_json::json;

fn testo() -> OpzioniEstrazione {
    OpzioniEstrazione::default()
}

fn codici_iso() -> OpzioniEstrazione {
    OpzioniEstrazione {
        formato_data: FormatoData::Iso,
        valori_codificati: ValoriCodificati::Codici,
    }
}

fn residente() -> Value {
    json!({
        "identificativi": { "idANPR": "AB12345CD" },
        "generalita": {
            "codiceFiscale": { "codFiscale": "STTSGT90A01H501J", "validitaCF": "1" },
            "cognome": "SOGGETTO", "nome": "SETTIMO", "sesso": "M",
            "dataNascita": "1990-01-01",
            "luogoNascita": { "comune": { "nomeComune": "ROMA", "codiceIstat": "058091", "siglaProvinciaIstat": "RM" } },
            "soggettoAIRE": "N"
        },
        "statoCivile": { "statoCivile": "2" },
        "residenza": [ {
            "tipoIndirizzo": "1",
            "dataDecorrenzaResidenza": "2015-03-20",
            "presso": "ROSSI",
            "indirizzo": {
                "cap": "00184", "frazione": "",
                "comune": { "nomeComune": "ROMA", "codiceIstat": "058091", "siglaProvinciaIstat": "RM" },
                "toponimo": { "codSpecie": "213", "specie": "VIA", "denominazioneToponimo": "NAZIONALE" },
                "numeroCivico": { "numero": "12", "lettera": "A", "esponente1": "bis",
                                  "civicoInterno": { "scala": "B", "interno1": "5", "espInterno1": "C", "piano": "3" } }
            }
        } ],
        "cittadinanza": [ { "codiceStato": "100", "descrizioneStato": "ITALIA" },
                          { "codiceStato": "215", "descrizioneStato": "FRANCIA" } ],
        "infoSoggettoEnte": [
            { "id": "1003", "chiave": "Verifica esistenza in vita", "valore": "S" }
        ]
    })
}

#[test]
fn generalita_and_birth_in_italy() {
    let c = [
        CodiceCampo::IdAnpr,
        CodiceCampo::CodiceFiscale,
        CodiceCampo::Cognome,
        CodiceCampo::Nome,
        CodiceCampo::Sesso,
        CodiceCampo::DataNascita,
        CodiceCampo::ComuneNascita,
        CodiceCampo::ProvinciaNascita,
        CodiceCampo::LocalitaNascitaEstera,
        CodiceCampo::StatoNascita,
        CodiceCampo::SoggettoAire,
    ];
    assert_eq!(
        estrai(&c, &residente(), &testo()),
        [
            "AB12345CD",
            "STTSGT90A01H501J",
            "SOGGETTO",
            "SETTIMO",
            "M",
            "01/01/1990",
            "ROMA",
            "RM",
            "",
            "ITALIA",
            "N"
        ]
    );
    assert_eq!(
        estrai(&[CodiceCampo::DataNascita], &residente(), &codici_iso()),
        ["1990-01-01"]
    );
}

#[test]
fn full_italian_residence() {
    let c = [
        CodiceCampo::ResidenzaTipoIndirizzo,
        CodiceCampo::ResidenzaToponimo,
        CodiceCampo::ResidenzaCivico,
        CodiceCampo::ResidenzaCivicoNumero,
        CodiceCampo::ResidenzaCivicoLettera,
        CodiceCampo::ResidenzaCivicoEsponente,
        CodiceCampo::ResidenzaScala,
        CodiceCampo::ResidenzaInterno,
        CodiceCampo::ResidenzaPiano,
        CodiceCampo::ResidenzaCap,
        CodiceCampo::ResidenzaFrazione,
        CodiceCampo::ResidenzaComune,
        CodiceCampo::ResidenzaCodiceIstat,
        CodiceCampo::ResidenzaProvincia,
        CodiceCampo::ResidenzaDecorrenza,
        CodiceCampo::ResidenzaPresso,
        CodiceCampo::ResidenzaEsteraStato,
    ];
    assert_eq!(
        estrai(&c, &residente(), &testo()),
        [
            "Residenza",
            "VIA NAZIONALE",
            "12/A bis",
            "12",
            "A",
            "bis",
            "B",
            "5/C",
            "3",
            "00184",
            "",
            "ROMA",
            "058091",
            "RM",
            "20/03/2015",
            "ROSSI",
            ""
        ]
    );
    let codici = estrai(&c[..1], &residente(), &codici_iso());
    assert_eq!(codici, ["1"]);
}

#[test]
fn aire_subject_abroad() {
    let s = json!({
        "generalita": {
            "cognome": "SOGGETTO", "nome": "OTTAVO", "soggettoAIRE": "S", "annoEspatrio": "2010",
            "luogoNascita": { "localita": { "descrizioneLocalita": "PARIGI", "descrizioneStato": "FRANCIA", "codiceStato": "215" } }
        },
        "residenza": [ { "tipoIndirizzo": "4", "localitaEstera": {
            "indirizzoEstero": { "cap": "75001",
                                 "localita": { "descrizioneLocalita": "PARIGI", "descrizioneStato": "FRANCIA" },
                                 "toponimo": { "denominazione": "RUE DE RIVOLI", "numeroCivico": "10" } },
            "consolato": { "codiceConsolato": "1234", "descrizioneConsolato": "CONSOLATO GENERALE PARIGI" } } } ]
    });
    let c = [
        CodiceCampo::ComuneNascita,
        CodiceCampo::LocalitaNascitaEstera,
        CodiceCampo::StatoNascita,
        CodiceCampo::SoggettoAire,
        CodiceCampo::AnnoEspatrio,
        CodiceCampo::ResidenzaTipoIndirizzo,
        CodiceCampo::ResidenzaToponimo,
        CodiceCampo::ResidenzaEsteraIndirizzo,
        CodiceCampo::ResidenzaEsteraCap,
        CodiceCampo::ResidenzaEsteraLocalita,
        CodiceCampo::ResidenzaEsteraStato,
        CodiceCampo::Consolato,
    ];
    assert_eq!(
        estrai(&c, &s, &testo()),
        [
            "",
            "PARIGI",
            "FRANCIA",
            "S",
            "2010",
            "Residenza estera",
            "",
            "RUE DE RIVOLI 10",
            "75001",
            "PARIGI",
            "FRANCIA",
            "CONSOLATO GENERALE PARIGI"
        ]
    );
}

#[test]
fn coded_values_text_or_codes() {
    let c = [CodiceCampo::StatoCivile, CodiceCampo::Cittadinanze];
    assert_eq!(
        estrai(&c, &residente(), &testo()),
        ["Coniugato/a", "ITALIA | FRANCIA"]
    );
    assert_eq!(estrai(&c, &residente(), &codici_iso()), ["2", "100 | 215"]);
    // An unknown code stays visible as the code.
    let s = json!({ "statoCivile": { "statoCivile": "05" } });
    assert_eq!(estrai(&c[..1], &s, &testo()), ["5"]);
}

#[test]
fn death_and_life_from_info_soggetto_ente() {
    let c = [CodiceCampo::EsistenzaInVita, CodiceCampo::DataDecesso];
    assert_eq!(estrai(&c, &residente(), &testo()), ["S", ""]);
    let morto = json!({ "infoSoggettoEnte": [
        { "id": "1003", "chiave": "Verifica esistenza in vita", "valore": "N" },
        { "id": "1015", "chiave": "Data decesso", "valoreData": "2024-11-05" } ] });
    assert_eq!(estrai(&c, &morto, &testo()), ["N", "05/11/2024"]);
    // Without ids, matched by key; ScERPA's dd/MM/yyyy is accepted too.
    let senza_id =
        json!({ "infoSoggettoEnte": { "chiave": "Data decesso", "valoreData": "05/11/2024" } });
    assert_eq!(estrai(&c, &senza_id, &codici_iso()), ["", "2024-11-05"]);
    let c021 = json!({ "datiDecesso": { "dataEvento": "2023-02-01" } });
    assert_eq!(estrai(&c[1..], &c021, &testo()), ["01/02/2023"]);
}

#[test]
fn partial_birth_dates() {
    let g = |extra: Value| {
        let mut v = json!({ "generalita": { "dataNascita": "1950-07-01" } });
        for (k, x) in extra.as_object().unwrap() {
            v["generalita"][k] = x.clone();
        }
        estrai(&[CodiceCampo::DataNascita], &v, &testo()).remove(0)
    };
    assert_eq!(g(json!({})), "01/07/1950");
    assert_eq!(g(json!({ "senzaGiorno": "1" })), "07/1950");
    assert_eq!(
        g(json!({ "senzaGiorno": "1", "senzaGiornoMese": "1" })),
        "1950"
    );
    assert_eq!(g(json!({ "senzaGiorno": "0" })), "01/07/1950");
}

#[test]
fn family_counts_and_member_rows() {
    let membro = |id: &str, cf: &str, nome: &str, prog: &str, legame: &str| {
        json!({ "identificativi": { "idANPR": id },
                "generalita": { "codiceFiscale": { "codFiscale": cf }, "cognome": "ROSSI", "nome": nome,
                                "sesso": "F", "dataNascita": "1980-05-10" },
                "legameSoggetto": { "codiceLegame": legame, "progressivoComponente": prog,
                                    "dataDecorrenzaLegame": "2005-06-01" } })
    };
    let famiglia = [
        membro("AA11111AA", "RSSMRA70A01H501X", "MARIO", "1", "01"),
        membro("AB12345CD", "RSSNNA80E50H501Y", "ANNA", "2", "02"),
    ];
    let c = [
        CodiceCampo::FamigliaComponenti,
        CodiceCampo::FamigliaLegameIntestatario,
    ];
    // The person's own block (from another service) lacks legameSoggetto: read from the member.
    assert_eq!(
        estrai_con_famiglia(&c, &residente(), &famiglia, &testo()),
        ["2", "Marito/Moglie"]
    );
    assert_eq!(estrai(&c, &residente(), &testo()), ["", ""]);
    let righe = estrai_componenti(&famiglia, &testo());
    assert_eq!(
        righe[0],
        [
            "1",
            "AA11111AA",
            "RSSMRA70A01H501X",
            "ROSSI",
            "MARIO",
            "F",
            "10/05/1980",
            "Intestatario scheda",
            "01/06/2005"
        ]
    );
    assert_eq!(righe[1][7], "Marito/Moglie");
    assert_eq!(estrai_componenti(&famiglia, &codici_iso())[1][7], "2");
}

#[test]
fn documents_from_3002() {
    let s = json!({
        "cartaIdentita": { "numero": "CA00000AA", "dataRilascio": "2020-01-15", "interdizioneEspatrio": "N",
                           "comuneRilascio": { "nomeComune": "MILANO" }, "dataScadenza": "2031-01-15" },
        "permessoSoggiorno": { "numeroSoggiorno": "I12345678", "tipoSoggiorno": "2", "dataRilascio": "2022-02-02",
                               "dataScadenza": "2027-02-02", "questuraRilascioSoggiorno": "ROMA",
                               "numeroPassaporto": "YA1234567" }
    });
    let c = [
        CodiceCampo::CartaIdentitaNumero,
        CodiceCampo::CartaIdentitaDataRilascio,
        CodiceCampo::CartaIdentitaDataScadenza,
        CodiceCampo::CartaIdentitaComuneRilascio,
        CodiceCampo::PermessoNumero,
        CodiceCampo::PermessoTipo,
        CodiceCampo::PermessoDataRilascio,
        CodiceCampo::PermessoDataScadenza,
        CodiceCampo::PermessoQuestura,
        CodiceCampo::PassaportoNumero,
    ];
    assert_eq!(
        estrai(&c, &s, &testo()),
        [
            "CA00000AA",
            "15/01/2020",
            "15/01/2031",
            "MILANO",
            "I12345678",
            "Carta/Permesso CE",
            "02/02/2022",
            "02/02/2027",
            "ROMA",
            "YA1234567"
        ]
    );
    let consolato = json!({ "cartaIdentita": { "consolatoRilascio": { "codiceConsolato": "9", "descrizioneConsolato": "CONSOLATO DI LIONE" } } });
    assert_eq!(
        estrai(&c[3..4], &consolato, &testo()),
        ["CONSOLATO DI LIONE"]
    );
}

#[test]
fn domicilio_digitale_both_shapes() {
    let a = json!({ "domicilioDigitale": { "indirizzoDigitale": "mario@pec.it" } });
    let b = json!({ "infoSoggettoEnte": [ { "chiave": "Domicilio digitale", "valoreTesto": "anna@pec.it" } ] });
    assert_eq!(
        estrai(&[CodiceCampo::DomicilioDigitale], &a, &testo()),
        ["mario@pec.it"]
    );
    assert_eq!(
        estrai(&[CodiceCampo::DomicilioDigitale], &b, &testo()),
        ["anna@pec.it"]
    );
}

#[test]
fn every_direct_path_is_read_where_the_catalogue_says() {
    for d in CATALOGO {
        let Some(p) = d.fonte.percorso_json() else {
            continue;
        };
        let mut v = json!("X1");
        for seg in p.rsplit('.') {
            v = match seg.strip_suffix("[0]") {
                Some(nome) => json!({ nome: [v] }),
                None => json!({ seg: v }),
            };
        }
        let letto = estrai(&[d.codice], &v, &codici_iso()).remove(0);
        assert_eq!(letto, "X1", "{}", d.codice);
    }
}

#[test]
fn missing_blocks_give_empty_cells_and_dates_pass_through() {
    let tutti: Vec<CodiceCampo> = CATALOGO.iter().map(|d| d.codice).collect();
    assert!(
        estrai(&tutti, &json!({}), &testo())
            .iter()
            .all(String::is_empty)
    );
    assert_eq!(
        formatta_data("2024-02-30", FormatoData::GgMmAaaa),
        "30/02/2024"
    );
    assert_eq!(
        formatta_data("2024-02-03T00:00:00", FormatoData::Iso),
        "2024-02-03"
    );
    assert_eq!(formatta_data("ieri", FormatoData::Iso), "ieri");
}
