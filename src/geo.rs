//! Offline GeoIP and ASN lookups from MaxMind-format databases (GeoLite2/GeoIP2 City or
//! Country, GeoLite2 ASN, DB-IP lite). Several databases may be given; each lookup merges what
//! they know. Nothing is fetched: without a database the analysis says what it could not check.

use maxminddb::{geoip2, Reader};
use serde::Serialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What the databases know about one IP.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GeoInfo {
    /// ISO country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// City name (English).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Latitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Autonomous system number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Autonomous system organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
}

impl GeoInfo {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == GeoInfo::default()
    }

    /// Coordinates, when both are known.
    pub fn coords(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }

    /// `Linköping, SE (AS29518 Bredband2 AB)`-style label.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        match (&self.city, &self.country) {
            (Some(c), Some(cc)) => parts.push(format!("{c}, {cc}")),
            (None, Some(cc)) => parts.push(cc.clone()),
            (Some(c), None) => parts.push(c.clone()),
            _ => {}
        }
        if let Some(asn) = self.asn {
            let org = self.as_org.as_deref().unwrap_or("");
            parts.push(format!("AS{asn} {org}").trim().to_string());
        }
        parts.join(" · ")
    }
}

/// Errors opening a database.
#[derive(Debug, thiserror::Error)]
#[error("cannot read GeoIP database {path}: {message}")]
pub struct GeoError {
    /// Which file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// One or more opened databases.
pub struct GeoIp {
    readers: Vec<(PathBuf, Reader<Vec<u8>>)>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.readers.iter().map(|(p, _)| p))
            .finish()
    }
}

impl GeoIp {
    /// Opens every database (read-only, into memory).
    pub fn open(paths: &[PathBuf]) -> Result<Self, GeoError> {
        let readers = paths
            .iter()
            .map(|p| {
                Reader::open_readfile(p)
                    .map(|r| (p.clone(), r))
                    .map_err(|e| GeoError {
                        path: p.clone(),
                        message: e.to_string(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(GeoIp { readers })
    }

    /// The database files.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.readers.iter().map(|(p, _)| p.as_path())
    }

    /// Looks an IP up in every database and merges the answers (first database wins per field).
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut info = GeoInfo::default();
        for (_, reader) in &self.readers {
            let Ok(result) = reader.lookup(ip) else {
                continue;
            };
            if let Ok(Some(city)) = result.decode::<geoip2::City>() {
                if info.country.is_none() {
                    info.country = city.country.iso_code.map(str::to_string);
                }
                if info.city.is_none() {
                    info.city = city.city.names.english.map(str::to_string);
                }
                if info.latitude.is_none() {
                    info.latitude = city.location.latitude;
                    info.longitude = city.location.longitude;
                }
            }
            if let Ok(Some(asn)) = result.decode::<geoip2::Asn>() {
                if info.asn.is_none() {
                    info.asn = asn.autonomous_system_number;
                    info.as_org = asn.autonomous_system_organization.map(str::to_string);
                }
            }
        }
        info
    }
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(name: &str) -> Option<PathBuf> {
        let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/geoip")).join(name);
        if p.exists() {
            Some(p)
        } else {
            eprintln!("skipped: {} is absent", p.display());
            None
        }
    }

    #[test]
    fn maxmind_test_databases_answer_known_ranges() {
        let (Some(city), Some(asn)) = (db("GeoIP2-City-Test.mmdb"), db("GeoLite2-ASN-Test.mmdb"))
        else {
            return;
        };
        let geo = GeoIp::open(&[city, asn]).unwrap();
        let london = geo.lookup("81.2.69.150".parse().unwrap());
        assert_eq!(london.country.as_deref(), Some("GB"));
        assert_eq!(london.city.as_deref(), Some("London"));
        let se = geo.lookup("89.160.20.115".parse().unwrap());
        assert_eq!(se.country.as_deref(), Some("SE"));
        assert!(se.coords().is_some());
        let google = geo.lookup("1.0.0.1".parse().unwrap());
        assert_eq!(google.asn, Some(15169));
        assert!(geo.lookup("10.0.0.1".parse().unwrap()).is_empty());
        assert!(GeoIp::open(&[PathBuf::from("/nonexistent.mmdb")]).is_err());
    }

    #[test]
    fn distances_are_great_circle() {
        let london = (51.5142, -0.0931);
        let linkoping = (58.4167, 15.6167);
        let d = distance_km(london, linkoping);
        assert!((1250.0..1350.0).contains(&d), "{d}");
        assert_eq!(distance_km(london, london), 0.0);
    }
}
