//! `anpr check` end to end against the simulator, from an anpr.toml in a folder.

use crate::supporto::*;
use anpr::check::{ErroreCheck, Identificativo, OpzioniCheck, esegui_check};

async fn esegui(
    amb: &Ambiente,
    toml: String,
    id: Option<Identificativo>,
) -> (Result<Option<String>, ErroreCheck>, String) {
    let file = amb.dir.path().join("anpr-check.toml");
    std::fs::write(&file, toml).unwrap();
    let mut out = Vec::new();
    let opz = OpzioniCheck {
        identificativo: id,
        ..OpzioniCheck::default()
    };
    let r = esegui_check(&file, &amb.dir.path().join("rivesto-data"), &opz, &mut out).await;
    (r, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn check_by_cf_prints_every_step_and_the_idanpr() {
    let amb = ambiente(|_| {}).await;
    let (cf, id) = amb.sim.esempi().normali[0].clone();
    let (r, out) = esegui(
        &amb,
        amb.toml(|t| t),
        Some(Identificativo::CodiceFiscale(cf)),
    )
    .await;
    assert_eq!(r.unwrap(), Some(id.clone()), "{out}");
    for atteso in [
        "tracking evidence costruita",
        "voucher PDND ottenuto, scade",
        "C030: chiamata inviata a",
        "risposta ricevuta",
        &format!("ID ANPR: {id}"),
    ] {
        assert!(out.contains(atteso), "manca «{atteso}» in:\n{out}");
    }
    // The motivo default and the operation id store under the data dir.
    let corpo = amb.sim.richieste_ricevute().last().unwrap().corpo.clone();
    assert!(corpo.contains("VERIFICA-COLLEGAMENTO"));
    assert!(amb.dir.path().join("rivesto-data/anpr-id/ultimo").exists());
}

#[tokio::test]
async fn check_by_idanpr_uses_c015() {
    let amb = ambiente(|_| {}).await;
    let (_, id) = amb.sim.esempi().normali[1].clone();
    let (r, out) = esegui(
        &amb,
        amb.toml(|t| t),
        Some(Identificativo::IdAnpr(id.clone())),
    )
    .await;
    assert_eq!(r.unwrap(), Some(id), "{out}");
    assert!(out.contains("C015: chiamata inviata"), "{out}");
}

#[tokio::test]
async fn check_without_identifier_probes_status() {
    let amb = ambiente(|_| {}).await;
    let (r, out) = esegui(&amb, amb.toml(|t| t), None).await;
    assert_eq!(r.unwrap(), None, "{out}");
    assert!(
        out.contains("tutti i 9 servizi configurati rispondono"),
        "{out}"
    );
    // GET /status carries no Digest and no Agid-JWT-Signature: the simulator refuses them.
    assert!(
        amb.sim
            .richieste_ricevute()
            .iter()
            .filter(|r| r.metodo == "GET")
            .all(|r| r.stato == 200)
    );
}

#[tokio::test]
async fn check_failure_names_the_step_the_answer_and_the_cause() {
    let amb = ambiente(|_| {}).await;
    // An audience that carries the -PDND suffix of the call URL.
    let toml = amb.toml(|t| t.replace("MinInternoPortaANPR\"", "MinInternoPortaANPR-PDND\""));
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let (r, out) = esegui(&amb, toml, Some(Identificativo::CodiceFiscale(cf))).await;
    assert!(r.is_err());
    assert!(
        out.contains("ERRORE al passo «chiamata al servizio ANPR»"),
        "{out}"
    );
    assert!(
        out.contains("risposta: HTTP 400 InteroperabilityInvalidRequest"),
        "{out}"
    );
    assert!(
        out.contains("causa probabile:") && out.contains("-PDND"),
        "{out}"
    );
    // A wrong kid fails at the voucher step.
    let kid = amb.chiavi.kid.clone();
    let (r, out) = esegui(&amb, amb.toml(|t| t.replace(&kid, "altro-kid")), None).await;
    assert!(
        matches!(
            r,
            Err(ErroreCheck::StatusFalliti {
                falliti: 9,
                totale: 9
            })
        ),
        "{out}"
    );
    assert!(
        out.contains("ERRORE al passo «richiesta del voucher PDND»"),
        "{out}"
    );
}
