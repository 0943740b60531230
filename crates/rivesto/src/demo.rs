//! `rivesto demo`: the ANPR simulator in-process, sample lookups through the real client, and a
//! sample result file. The web application takes this over once it lands.

use crate::cli::{DemoArgs, Globali};
use anpr::archivio::ArchivioFile;
use anpr::check::OpzioniCheck;
use anpr::client::{ContestoChiamata, DatiRichiesta, OpzioniClient, PdndClient};
use anpr::config::AnprConfig;
use anpr::security::{Orologio, OrologioSistema};
use domain::ambito::Ambito;
use domain::esito::Esito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use files::output::{CodiceCampo, Layout, RigaRisultato, ScrittoreRisultati, estrai};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use worker::rivestizione::{self, Riga};

const CAMPI: &[CodiceCampo] = &[
    CodiceCampo::IdAnpr,
    CodiceCampo::CodiceFiscale,
    CodiceCampo::Cognome,
    CodiceCampo::Nome,
    CodiceCampo::Sesso,
    CodiceCampo::DataNascita,
    CodiceCampo::ComuneNascita,
    CodiceCampo::StatoNascita,
    CodiceCampo::ResidenzaToponimo,
    CodiceCampo::ResidenzaCivico,
    CodiceCampo::ResidenzaCap,
    CodiceCampo::ResidenzaComune,
    CodiceCampo::ResidenzaEsteraLocalita,
    CodiceCampo::ResidenzaEsteraStato,
    CodiceCampo::StatoCivile,
    CodiceCampo::Cittadinanze,
    CodiceCampo::EsistenzaInVita,
    CodiceCampo::DataDecesso,
];

struct Campione {
    descrizione: &'static str,
    tipo: TipoIdentificativo,
    valore: String,
}

pub async fn esegui(g: &Globali, a: DemoArgs) -> anyhow::Result<ExitCode> {
    let cartella = g.data_dir.join("demo");
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let indirizzo = listener.local_addr()?;
    let init = anpr_sim::init::scrivi(&cartella.join("anpr-sim"), indirizzo)?;
    let sim = anpr_sim::avvia(
        anpr_sim::SimConfig::from_clients_file(&init.clienti)?,
        listener,
    )
    .await?;
    println!("Simulatore ANPR in ascolto su http://{indirizzo}");
    println!(
        "(configurazione del client: {})\n",
        init.anpr_toml.display()
    );

    let orologio: Arc<dyn Orologio> = Arc::new(OrologioSistema);
    let archivio = Arc::new(ArchivioFile::apri(&g.data_dir, orologio.clone())?);
    let mut opzioni = OpzioniClient::new("demo");
    opzioni.orologio = orologio;
    let client = PdndClient::new(AnprConfig::from_file(&init.anpr_toml)?, archivio, opzioni)?;

    println!("== Verifica del collegamento (GET /status di ogni servizio)");
    let mut stdout = std::io::stdout();
    anpr::check::check(&client, &OpzioniCheck::default(), &mut stdout).await?;

    println!("\n== Ricerche di esempio (C030, poi i servizi dei dati, per ID ANPR)");
    let campioni = campioni(&sim.esempi());
    let layout = Layout::new(CAMPI.to_vec());
    let opz = layout.opzioni_estrazione();
    let id_richiesta = format!("demo-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    let mut scrittore = ScrittoreRisultati::nuovo(&cartella, &id_richiesta, layout)?;
    for (n, c) in campioni.iter().enumerate() {
        let riga = cerca(&client, c, &id_richiesta, n).await?;
        let valori = riga
            .soggetto
            .as_ref()
            .map(|s| estrai(CAMPI, s, &opz))
            .unwrap_or_else(|| vec![String::new(); CAMPI.len()]);
        let esito = riga.esito.unwrap_or(Esito::Errore);
        println!(
            "{:<34} {:<4} {:<16} {:<12} {}",
            c.descrizione,
            c.tipo.as_str(),
            c.valore,
            esito,
            riassunto(&valori, &riga.messaggio)
        );
        scrittore.scrivi(&RigaRisultato {
            riferimento: format!("esempio-{}", n + 1),
            tipo: c.tipo.as_str().into(),
            identificativo: c.valore.clone(),
            esito,
            messaggio: riga.messaggio,
            id_operazione_anpr: riga.id_operazione_anpr,
            valori,
            componenti_famiglia: Vec::new(),
        })?;
    }
    let resoconto = scrittore.chiudi()?;
    println!("\n== File di risposta");
    for f in &resoconto.file {
        println!(
            "{} ({} righe, sha256 {})",
            f.percorso.display(),
            f.righe,
            f.sha256_hex
        );
    }
    println!("\nChiamate ANPR per servizio: {}", conteggi(&sim));
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn campioni(e: &anpr_sim::Esempi) -> Vec<Campione> {
    let mut v = Vec::new();
    let mut aggiungi = |descrizione, tipo, valore: Option<&String>| {
        if let Some(valore) = valore {
            v.push(Campione {
                descrizione,
                tipo,
                valore: valore.clone(),
            });
        }
    };
    let cf = TipoIdentificativo::Cf;
    aggiungi("residente in Italia", cf, e.normali.first().map(|p| &p.0));
    aggiungi(
        "residente in Italia, per ID ANPR",
        TipoIdentificativo::IdAnpr,
        e.normali.get(1).map(|p| &p.1),
    );
    aggiungi("deceduto", cf, e.deceduti.first().map(|p| &p.0));
    aggiungi("iscritto AIRE", cf, e.aire.first().map(|p| &p.0));
    aggiungi("cancellato da ANPR", cf, e.cancellati.first().map(|p| &p.0));
    aggiungi(
        "omocodia: codice base",
        cf,
        e.omocodici.first().map(|p| &p.0.0),
    );
    aggiungi(
        "omocodia: variante",
        cf,
        e.omocodici.first().map(|p| &p.1.0),
    );
    aggiungi("senza nome", cf, e.senza_nome.first().map(|p| &p.0));
    v.push(Campione {
        descrizione: "carattere di controllo errato",
        tipo: cf,
        valore: "RSSMRA85T10A562X".into(),
    });
    v
}

async fn cerca(
    client: &PdndClient,
    c: &Campione,
    id_richiesta: &str,
    n: usize,
) -> anyhow::Result<rivestizione::EsitoRiga> {
    let valido = match c.tipo {
        TipoIdentificativo::Cf => domain::cf::CodiceFiscale::parse(&c.valore)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string()),
        _ => domain::id_anpr::IdAnpr::parse(&c.valore)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string()),
    };
    let identificativo = match valido {
        Ok(v) => v,
        Err(m) => {
            return Ok(rivestizione::EsitoRiga {
                esito: Some(Esito::NonValido),
                messaggio: m,
                ..Default::default()
            });
        }
    };
    let gruppi = BTreeSet::from([
        GruppoCampi::IdAnpr,
        GruppoCampi::Generalita,
        GruppoCampi::Residenza,
        GruppoCampi::StatoCivile,
        GruppoCampi::Cittadinanza,
        GruppoCampi::EsistenzaInVita,
        GruppoCampi::DataDecesso,
    ]);
    let piano = match anpr::piano::pianifica(
        &gruppi,
        Ambito::Italia,
        c.tipo,
        &client.config().servizi_abilitati(),
    ) {
        Ok(p) => p,
        Err(e) => {
            return Ok(rivestizione::EsitoRiga {
                esito: Some(Esito::NonSupportato),
                messaggio: e.0,
                ..Default::default()
            });
        }
    };
    let riga = Riga {
        identificativo: &identificativo,
        piano: &piano,
        dati: DatiRichiesta {
            data_riferimento_richiesta: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            motivo_richiesta: "DEMO-RIVESTO".into(),
        },
        contesto: ContestoChiamata::da_config(client.config()),
        chiave: format!("{id_richiesta}:{n}"),
        comuni_in_ambito: None,
    };
    Ok(rivestizione::esegui(client, riga).await?)
}

fn riassunto(valori: &[String], messaggio: &str) -> String {
    if valori.iter().all(String::is_empty) {
        return messaggio.to_string();
    }
    // cognome, nome, then the residence comune (or the foreign locality) and the death date.
    let mut parti: Vec<&str> = [2, 3, 11, 12, 17]
        .iter()
        .map(|i| valori[*i].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    if !messaggio.is_empty() {
        parti.push(messaggio);
    }
    parti.join(" · ")
}

fn conteggi(sim: &anpr_sim::SimHandle) -> String {
    let mut per_servizio = std::collections::BTreeMap::<String, u64>::new();
    for ((_, servizio), n) in sim.conteggi() {
        *per_servizio.entry(servizio).or_default() += n;
    }
    per_servizio
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
