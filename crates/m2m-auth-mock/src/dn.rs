//! Distinguished names for `tls_client_auth` (RFC 8705 §2.1.2): the subject of a presented client
//! certificate and the registered `tls_client_auth_subject_dn` are both brought to one canonical
//! RFC 4514 string and compared for equality.
//!
//! The canonical form: RDNs most specific first (the reverse of their order in the certificate),
//! separated by `,` with no spaces, attribute values in an RDN joined by `+`; the attribute types of
//! RFC 4514 §3 as upper-case names (`CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`, `DC`, `UID`), any
//! other as its dotted OID; string values as text with the RFC 4514 §2.4 escapes, other values as
//! `#` and lower-case hex of their DER. So `cn = svc-mtls , o=Acme` and `2.5.4.3=svc-mtls,O=Acme`
//! both read `CN=svc-mtls,O=Acme`. Values compare exactly (case-sensitively).

use crate::der::{self, Reader, tag};

/// RFC 4514 §3 attribute type names and their OIDs.
const SHORT_NAMES: [(&str, &str); 9] = [
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
];

/// Other names that registrations commonly use; they canonicalise to their OID, as RFC 4514
/// producers write them.
const EXTRA_NAMES: [(&str, &str); 3] = [
    ("SERIALNUMBER", "2.5.4.5"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
    ("E", "1.2.840.113549.1.9.1"),
];

/// Characters RFC 4514 §2.4 escapes anywhere in a value.
const SPECIAL: [char; 7] = ['"', '+', ',', ';', '<', '>', '\\'];

/// One attribute type and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ava {
    /// Canonical type: a short name of [`SHORT_NAMES`] or a dotted OID.
    pub(crate) attr: String,
    pub(crate) value: AvaValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AvaValue {
    Text(String),
    /// Lower-case hex of the value's whole DER encoding (RFC 4514 §2.4 `#` form).
    Hex(String),
}

/// A distinguished name, RDNs in string order (most specific first).
pub(crate) type Dn = Vec<Vec<Ava>>;

/// The canonical string of a parsed DN.
pub(crate) fn to_string(dn: &Dn) -> String {
    dn.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|ava| match &ava.value {
                    AvaValue::Text(text) => format!("{}={}", ava.attr, escape(text)),
                    AvaValue::Hex(hex) => format!("{}=#{hex}", ava.attr),
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Brings a DN written by a person to the canonical string.
pub(crate) fn canonicalize(text: &str) -> Result<String, String> {
    parse(text).map(|dn| to_string(&dn))
}

/// The canonical subject DN of a DER certificate.
pub(crate) fn certificate_subject(cert_der: &[u8]) -> Result<String, String> {
    let mut outer = Reader::new(cert_der);
    let cert = outer.expect(tag::SEQUENCE, "certificate")?;
    let tbs = Reader::new(cert.content).expect(tag::SEQUENCE, "tbsCertificate")?;
    let mut fields = Reader::new(tbs.content);
    if fields.peek_tag() == Some(tag::CONTEXT_0) {
        fields.next()?; // version
    }
    fields.expect(tag::INTEGER, "serialNumber")?;
    fields.expect(tag::SEQUENCE, "signature")?;
    fields.expect(tag::SEQUENCE, "issuer")?;
    fields.expect(tag::SEQUENCE, "validity")?;
    let subject = fields.expect(tag::SEQUENCE, "subject")?;
    let mut rdns: Dn = Vec::new();
    let mut sets = Reader::new(subject.content);
    while !sets.is_empty() {
        let set = sets.expect(tag::SET, "RDN")?;
        let mut avas = Vec::new();
        let mut members = Reader::new(set.content);
        while !members.is_empty() {
            let pair = members.expect(tag::SEQUENCE, "AttributeTypeAndValue")?;
            let mut parts = Reader::new(pair.content);
            let oid = der::oid_to_string(parts.expect(tag::OID, "attribute type")?.content)?;
            let value = parts.next()?;
            avas.push(Ava {
                attr: attr_for_oid(&oid),
                value: decode_value(value),
            });
        }
        rdns.push(avas);
    }
    rdns.reverse();
    Ok(to_string(&rdns))
}

/// The canonical type for an OID: its RFC 4514 short name, else the OID itself.
fn attr_for_oid(oid: &str) -> String {
    SHORT_NAMES
        .iter()
        .find(|(_, o)| *o == oid)
        .map_or_else(|| oid.to_owned(), |(name, _)| (*name).to_owned())
}

/// A string-typed value as text; any other type (or a string that does not decode) as hex.
fn decode_value(value: der::Element<'_>) -> AvaValue {
    const UTF8: u8 = 0x0c;
    const NUMERIC: u8 = 0x12;
    const PRINTABLE: u8 = 0x13;
    const TELETEX: u8 = 0x14;
    const IA5: u8 = 0x16;
    const VISIBLE: u8 = 0x1a;
    const UNIVERSAL: u8 = 0x1c;
    const BMP: u8 = 0x1e;
    let text = match value.tag {
        UTF8 | NUMERIC | PRINTABLE | IA5 | VISIBLE => {
            String::from_utf8(value.content.to_vec()).ok()
        }
        // T.61 in theory; Latin-1 in practice.
        TELETEX => Some(value.content.iter().map(|b| char::from(*b)).collect()),
        BMP => {
            let units: Vec<u16> = value
                .content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        UNIVERSAL => value
            .content
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    };
    match text {
        Some(text) => AvaValue::Text(text),
        None => AvaValue::Hex(hex(value.encoded)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 4514 §2.4 escaping of a string value.
fn escape(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if SPECIAL.contains(&c) || edge_space || (i == 0 && c == '#') {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses an RFC 4514 string (also accepting spaces around `,` `+` `=` and lower-case names).
pub(crate) fn parse(text: &str) -> Result<Dn, String> {
    if text.trim().is_empty() {
        return Err("empty distinguished name".to_owned());
    }
    let mut dn: Dn = Vec::new();
    let mut rdn: Vec<Ava> = Vec::new();
    let mut attr = String::new();
    // The value so far, each char with whether it was escaped (escaped spaces are not trimmed).
    let mut value: Vec<(char, bool)> = Vec::new();
    let mut in_value = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if !in_value {
                    return Err(format!("escape in attribute type of {text:?}"));
                }
                let Some(next) = chars.next() else {
                    return Err(format!("{text:?} ends with a lone backslash"));
                };
                if next.is_ascii_hexdigit() {
                    // \HH: one byte of a UTF-8 sequence; collect consecutive pairs then decode.
                    let mut bytes = Vec::new();
                    let mut hi = next;
                    loop {
                        let lo = chars
                            .next()
                            .filter(char::is_ascii_hexdigit)
                            .ok_or_else(|| format!("bad \\HH escape in {text:?}"))?;
                        let byte = u8::from_str_radix(&format!("{hi}{lo}"), 16)
                            .map_err(|e| e.to_string())?;
                        bytes.push(byte);
                        let mut lookahead = chars.clone();
                        match (lookahead.next(), lookahead.next()) {
                            (Some('\\'), Some(h)) if h.is_ascii_hexdigit() => {
                                chars.next();
                                hi = chars.next().unwrap_or(h);
                            }
                            _ => break,
                        }
                    }
                    let decoded = String::from_utf8(bytes)
                        .map_err(|_| format!("\\HH escapes in {text:?} are not UTF-8"))?;
                    value.extend(decoded.chars().map(|c| (c, true)));
                } else if matches!(
                    next,
                    ' ' | '#' | '=' | '"' | '+' | ',' | ';' | '<' | '>' | '\\'
                ) {
                    value.push((next, true));
                } else {
                    return Err(format!("\\{next} is not an RFC 4514 escape in {text:?}"));
                }
            }
            '=' if !in_value => in_value = true,
            ',' | '+' => {
                if !in_value {
                    return Err(format!("attribute without '=' in {text:?}"));
                }
                rdn.push(make_ava(&attr, &value, text)?);
                attr.clear();
                value.clear();
                in_value = false;
                if c == ',' {
                    dn.push(std::mem::take(&mut rdn));
                }
            }
            _ if in_value => value.push((c, false)),
            _ => attr.push(c),
        }
    }
    if !in_value {
        return Err(format!("attribute without '=' in {text:?}"));
    }
    rdn.push(make_ava(&attr, &value, text)?);
    dn.push(rdn);
    Ok(dn)
}

fn make_ava(attr: &str, value: &[(char, bool)], text: &str) -> Result<Ava, String> {
    let attr = canonical_attr(attr.trim())
        .ok_or_else(|| format!("unknown attribute type {:?} in {text:?}", attr.trim()))?;
    let start = value
        .iter()
        .position(|(c, escaped)| *escaped || *c != ' ')
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|(c, escaped)| *escaped || *c != ' ')
        .map_or(start, |i| i + 1);
    let trimmed = value.get(start..end).unwrap_or_default();
    let value = match trimmed.split_first() {
        Some((('#', false), hex_digits)) => {
            let hex: String = hex_digits
                .iter()
                .map(|(c, _)| c.to_ascii_lowercase())
                .collect();
            if hex.is_empty()
                || !hex.len().is_multiple_of(2)
                || !hex.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(format!("bad #hex value in {text:?}"));
            }
            AvaValue::Hex(hex)
        }
        _ => AvaValue::Text(trimmed.iter().map(|(c, _)| *c).collect()),
    };
    Ok(Ava { attr, value })
}

/// The canonical type for a written one: a known name (any case), or a dotted OID.
fn canonical_attr(attr: &str) -> Option<String> {
    let upper = attr.to_ascii_uppercase();
    if let Some((name, _)) = SHORT_NAMES.iter().find(|(name, _)| *name == upper) {
        return Some((*name).to_owned());
    }
    if let Some((_, oid)) = EXTRA_NAMES.iter().find(|(name, _)| *name == upper) {
        return Some((*oid).to_owned());
    }
    let oid = upper.strip_prefix("OID.").unwrap_or(&upper);
    let is_oid = !oid.is_empty()
        && oid.split('.').count() >= 2
        && oid
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    is_oid.then(|| attr_for_oid(oid))
}

/// The rcgen subject for a DN string; a string without `=` is a common name alone.
pub(crate) fn to_rcgen(subject: &str) -> Result<rcgen::DistinguishedName, String> {
    let dn = if subject.contains('=') {
        parse(subject)?
    } else if subject.trim().is_empty() {
        return Err("empty subject".to_owned());
    } else {
        vec![vec![Ava {
            attr: "CN".to_owned(),
            value: AvaValue::Text(subject.trim().to_owned()),
        }]]
    };
    let mut out = rcgen::DistinguishedName::new();
    // The certificate holds the RDNs least specific first.
    for rdn in dn.iter().rev() {
        let [ava] = rdn.as_slice() else {
            return Err(format!(
                "multi-valued RDNs ('+') cannot be issued: {subject:?}"
            ));
        };
        let AvaValue::Text(text) = &ava.value else {
            return Err(format!("#hex values cannot be issued: {subject:?}"));
        };
        let ty = dn_type(&ava.attr)?;
        if out.get(&ty).is_some() {
            return Err(format!(
                "{} appears twice in {subject:?}; issued subjects hold each attribute type once",
                ava.attr
            ));
        }
        out.push(ty, text.as_str());
    }
    Ok(out)
}

fn dn_type(attr: &str) -> Result<rcgen::DnType, String> {
    use rcgen::DnType;
    Ok(match attr {
        "CN" => DnType::CommonName,
        "O" => DnType::OrganizationName,
        "OU" => DnType::OrganizationalUnitName,
        "C" => DnType::CountryName,
        "L" => DnType::LocalityName,
        "ST" => DnType::StateOrProvinceName,
        other => {
            let oid = SHORT_NAMES
                .iter()
                .find(|(name, _)| *name == other)
                .map_or(other, |(_, oid)| *oid);
            let arcs = oid
                .split('.')
                .map(str::parse::<u64>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| format!("bad attribute type {other:?}"))?;
            DnType::CustomDnType(arcs)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_layout_and_name_case() {
        for written in [
            "CN=svc-mtls,O=Acme",
            "cn = svc-mtls , o=Acme",
            "2.5.4.3=svc-mtls,OID.2.5.4.10=Acme",
        ] {
            assert_eq!(canonicalize(written).as_deref(), Ok("CN=svc-mtls,O=Acme"));
        }
        assert_ne!(
            canonicalize("CN=Svc-mtls,O=Acme"),
            canonicalize("CN=svc-mtls,O=Acme")
        );
        assert_eq!(
            canonicalize("emailAddress=a@b.example,CN=x").as_deref(),
            Ok("1.2.840.113549.1.9.1=a@b.example,CN=x")
        );
    }

    #[test]
    fn escapes_round_trip() {
        let dn = r"CN=a\,b\+c\\d\ ,O=\#1 x,OU=caf\C3\A9";
        let canonical = canonicalize(dn).expect("parses");
        assert_eq!(canonical, r"CN=a\,b\+c\\d\ ,O=\#1 x,OU=café");
        assert_eq!(canonicalize(&canonical).as_deref(), Ok(canonical.as_str()));
        assert_eq!(canonicalize("CN=#0C0161").as_deref(), Ok("CN=#0c0161"));
        assert_eq!(
            canonicalize("CN=a+O=b,C=DE").as_deref(),
            Ok("CN=a+O=b,C=DE")
        );
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in ["", "CN", "CN=a,", "FOO=bar", "CN=a\\", "CN=#abc", "CN=\\zz"] {
            assert!(canonicalize(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn issued_certificates_read_back_to_the_same_string() {
        let key = rcgen::KeyPair::generate().expect("key");
        for (subject, expected) in [
            (
                "CN=svc-mtls,OU=Payments,O=Acme,C=DE",
                "CN=svc-mtls,OU=Payments,O=Acme,C=DE",
            ),
            ("svc-plain", "CN=svc-plain"),
            ("CN=x,DC=example", "CN=x,DC=example"),
        ] {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params.distinguished_name = to_rcgen(subject).expect("subject");
            let cert = params.self_signed(&key).expect("cert");
            assert_eq!(certificate_subject(cert.der()).as_deref(), Ok(expected));
        }
        assert!(to_rcgen("CN=a+O=b").is_err());
        assert!(to_rcgen("DC=a,DC=b").is_err());
    }
}
