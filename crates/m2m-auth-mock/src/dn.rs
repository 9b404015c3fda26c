//! Distinguished names for `tls_client_auth` (RFC 8705 §2.1.2): the subject of a presented client
//! certificate and the registered `tls_client_auth_subject_dn` are both brought to one canonical
//! RFC 4514 string and compared for equality. `x509-cert` decodes certificates and RFC 4514 values
//! (escapes, `#hex`); this module adds what it leaves to the caller: the leniency of a DN written
//! by a person, and one canonical way to print it.
//!
//! The canonical form: RDNs most specific first (the reverse of their order in the certificate),
//! separated by `,` with no spaces, the attribute values of an RDN joined by `+` in DER order; the
//! attribute types of RFC 4514 §3 as upper-case names (`CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`,
//! `DC`, `UID`), any other as its dotted OID; string values as text with the RFC 4514 §2.4 escapes,
//! other values as `#` and lower-case hex of their DER. So `cn = svc-mtls , o=Acme` and
//! `2.5.4.3=svc-mtls,O=Acme` both read `CN=svc-mtls,O=Acme`. Values compare exactly
//! (case-sensitively).

use std::str::FromStr as _;

use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::der::asn1::{Any, ObjectIdentifier};
use x509_cert::der::oid::db::{rfc3280, rfc4519};
use x509_cert::der::{Decode as _, Encode as _, Tag, Tagged as _};
use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

/// RFC 4514 §3 attribute type names: accepted in any case, and the names printed.
const SHORT_NAMES: [(&str, ObjectIdentifier); 9] = [
    ("CN", rfc4519::CN),
    ("L", rfc4519::L),
    ("ST", rfc4519::ST),
    ("O", rfc4519::O),
    ("OU", rfc4519::OU),
    ("C", rfc4519::C),
    ("STREET", rfc4519::STREET),
    ("DC", rfc4519::DC),
    ("UID", rfc4519::UID),
];

/// Other names that registrations commonly use; they print as their OID, as RFC 4514 producers
/// write them.
const EXTRA_NAMES: [(&str, ObjectIdentifier); 3] = [
    ("SERIALNUMBER", rfc4519::SERIAL_NUMBER),
    ("EMAILADDRESS", rfc3280::EMAIL_ADDRESS),
    ("E", rfc3280::EMAIL_ADDRESS),
];

/// Brings a DN written by a person to the canonical string.
pub(crate) fn canonicalize(text: &str) -> Result<String, String> {
    parse(text).map(|dn| to_string(&dn))
}

/// The canonical subject DN of a DER certificate.
pub(crate) fn certificate_subject(cert_der: &[u8]) -> Result<String, String> {
    let cert = Certificate::from_der(cert_der).map_err(|e| e.to_string())?;
    Ok(to_string(cert.tbs_certificate().subject().as_ref()))
}

/// The canonical string of a DN.
fn to_string(dn: &RdnSequence) -> String {
    dn.as_ref()
        .iter()
        .rev()
        .map(|rdn| rdn.iter().map(ava_string).collect::<Vec<_>>().join("+"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The canonical type: its RFC 4514 short name, else the dotted OID.
fn attr_name(oid: &ObjectIdentifier) -> String {
    SHORT_NAMES
        .iter()
        .find(|(_, known)| known == oid)
        .map_or_else(|| oid.to_string(), |(name, _)| (*name).to_owned())
}

fn ava_string(ava: &AttributeTypeAndValue) -> String {
    let attr = attr_name(&ava.oid);
    match value_text(&ava.value) {
        Some(text) => format!("{attr}={}", escape(&text)),
        None => {
            let der = ava.value.to_der().unwrap_or_default();
            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
            format!("{attr}=#{hex}")
        }
    }
}

/// A string-typed value as text; any other type (or a string that does not decode) is `None`.
fn value_text(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String
        | Tag::NumericString
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString => String::from_utf8(bytes.to_vec()).ok(),
        // T.61 in theory; Latin-1 in practice.
        Tag::TeletexString => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<_, _>>().ok()
        }
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping of a string value.
fn escape(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || edge_space
            || (i == 0 && c == '#')
        {
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

/// Parses an RFC 4514 string, also accepting spaces around `,` `+` `=` and lower-case names. The
/// RDNs are in certificate order (least specific first).
fn parse(text: &str) -> Result<RdnSequence, String> {
    if text.trim().is_empty() {
        return Err("empty distinguished name".to_owned());
    }
    let mut rdns = split_unescaped(text, ',')?
        .into_iter()
        .map(|rdn| {
            let avas = split_unescaped(rdn, '+')?
                .into_iter()
                .map(|ava| parse_ava(ava, text))
                .collect::<Result<Vec<_>, _>>()?;
            RelativeDistinguishedName::try_from(avas).map_err(|e| format!("{text:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    rdns.reverse();
    Ok(RdnSequence::from(rdns))
}

/// `written` split at each `separator` that is not escaped. Every escape is checked here: the
/// crate's value decoder silently drops an unfinished one at the end of a value.
fn split_unescaped(written: &str, separator: char) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = written.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                None => return Err(format!("{written:?} ends with a lone backslash")),
                Some((_, hi)) if hi.is_ascii_hexdigit() => {
                    if !chars.next().is_some_and(|(_, lo)| lo.is_ascii_hexdigit()) {
                        return Err(format!("bad \\HH escape in {written:?}"));
                    }
                }
                Some((_, c)) if !" #=\"+,;<>\\".contains(c) => {
                    return Err(format!("\\{c} is not an RFC 4514 escape in {written:?}"));
                }
                Some(_) => {}
            }
        } else if c == separator {
            parts.push(written.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    parts.push(written.get(start..).unwrap_or_default());
    Ok(parts)
}

/// One `type=value`, spaces around both ignored (an escaped trailing space is kept).
fn parse_ava(written: &str, text: &str) -> Result<AttributeTypeAndValue, String> {
    let (attr, value) = written
        .split_once('=')
        .ok_or_else(|| format!("attribute without '=' in {text:?}"))?;
    let oid = attribute_type(attr.trim())
        .ok_or_else(|| format!("unknown attribute type {:?} in {text:?}", attr.trim()))?;
    let value = value.trim_start_matches(' ');
    let mut end = value.trim_end_matches(' ').len();
    let kept = value.get(..end).unwrap_or_default();
    if (kept.len() - kept.trim_end_matches('\\').len()) % 2 == 1 {
        end += 1; // the last backslash escapes a space
    }
    let value = value.get(..end).unwrap_or_default();
    if value
        .strip_prefix('#')
        .is_some_and(|hex| hex.len() % 2 == 1)
    {
        return Err(format!("bad #hex value in {text:?}"));
    }
    let ava = AttributeTypeAndValue::from_str(&format!("{oid}={value}"))
        .map_err(|e| format!("bad value {value:?} in {text:?}: {e}"))?;
    if !value.starts_with('#') && value_text(&ava.value).is_none() {
        return Err(format!("\\HH escapes in {text:?} are not UTF-8"));
    }
    Ok(ava)
}

/// The OID of a written type: a known name (any case), or a dotted OID (`OID.` prefix allowed).
fn attribute_type(attr: &str) -> Option<ObjectIdentifier> {
    let upper = attr.to_ascii_uppercase();
    if let Some((_, oid)) = SHORT_NAMES
        .iter()
        .chain(&EXTRA_NAMES)
        .find(|(name, _)| *name == upper)
    {
        return Some(*oid);
    }
    let dotted = upper.strip_prefix("OID.").unwrap_or(&upper);
    // `ObjectIdentifier` parses only digits and dots, so a name it does not know is refused.
    ObjectIdentifier::new(dotted).ok()
}

/// The rcgen subject for a DN string; a string without `=` is a common name alone.
pub(crate) fn to_rcgen(subject: &str) -> Result<rcgen::DistinguishedName, String> {
    let mut out = rcgen::DistinguishedName::new();
    if !subject.contains('=') {
        if subject.trim().is_empty() {
            return Err("empty subject".to_owned());
        }
        out.push(rcgen::DnType::CommonName, subject.trim());
        return Ok(out);
    }
    // Both hold the RDNs least specific first.
    for rdn in parse(subject)?.iter() {
        let [ava] = rdn.as_ref().as_slice() else {
            return Err(format!(
                "multi-valued RDNs ('+') cannot be issued: {subject:?}"
            ));
        };
        let value = value_text(&ava.value)
            .ok_or_else(|| format!("values that are not strings cannot be issued: {subject:?}"))?;
        let arcs: Vec<u64> = ava.oid.arcs().map(u64::from).collect();
        let ty = rcgen::DnType::from_oid(&arcs);
        if out.get(&ty).is_some() {
            return Err(format!(
                "{} appears twice in {subject:?}; issued subjects hold each attribute type once",
                attr_name(&ava.oid)
            ));
        }
        out.push(ty, value);
    }
    Ok(out)
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
        // A #hex value is the DER of the value: a UTF8String is its text, anything else stays hex.
        assert_eq!(canonicalize("CN=#0C0161").as_deref(), Ok("CN=a"));
        assert_eq!(canonicalize("CN=#020101").as_deref(), Ok("CN=#020101"));
        assert_eq!(
            canonicalize("CN=a+O=b,C=DE").as_deref(),
            Ok("CN=a+O=b,C=DE")
        );
        // The values of an RDN are a set: written in any order, printed in DER order.
        assert_eq!(canonicalize("O=b+CN=a").as_deref(), Ok("CN=a+O=b"));
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "", "CN", "CN=a,", "FOO=bar", "CN=a\\", "CN=#abc", "CN=\\zz", "CN=\\ff", "CN=\\4",
        ] {
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
            ("CN=x,serialNumber=42", "CN=x,2.5.4.5=42"),
        ] {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params.distinguished_name = to_rcgen(subject).expect("subject");
            let cert = params.self_signed(&key).expect("cert");
            assert_eq!(certificate_subject(cert.der()).as_deref(), Ok(expected));
        }
        assert!(to_rcgen("CN=a+O=b").is_err());
        assert!(to_rcgen("DC=a,DC=b").is_err());
        assert!(to_rcgen("CN=#020101").is_err());
    }
}
