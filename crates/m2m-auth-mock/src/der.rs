//! Just enough DER (X.690) to read the parts of keys and certificates the mock needs — the subject
//! of a client certificate, the fields of an RSA or EC private key. A full ASN.1 crate would be a
//! large dependency for these few structures.

/// Tags of the universal types used here.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    #[cfg(test)]
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    /// `[0]` constructed, context-specific (EXPLICIT tagging).
    pub(crate) const CONTEXT_0: u8 = 0xa0;
    /// `[1]` constructed, context-specific (EXPLICIT tagging).
    #[cfg(test)]
    pub(crate) const CONTEXT_1: u8 = 0xa1;
}

/// One element: its tag, its content, and its whole encoding (tag, length and content).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) encoded: &'a [u8],
}

/// Reads consecutive elements from a byte string.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader { rest: input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element. Only single-byte tags and definite lengths of up to four bytes occur in
    /// the structures read here; anything else is an error.
    pub(crate) fn next(&mut self) -> Result<Element<'a>, String> {
        let input = self.rest;
        let (&tag, after_tag) = input.split_first().ok_or("truncated DER: no tag")?;
        if tag & 0x1f == 0x1f {
            return Err("unsupported DER: multi-byte tag".to_owned());
        }
        let (&first, mut after_len) = after_tag.split_first().ok_or("truncated DER: no length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err("unsupported DER length".to_owned());
            }
            let (bytes, rest) = after_len
                .split_at_checked(count)
                .ok_or("truncated DER length")?;
            after_len = rest;
            bytes
                .iter()
                .fold(0usize, |acc, b| acc << 8 | usize::from(*b))
        };
        let (content, rest) = after_len
            .split_at_checked(len)
            .ok_or("truncated DER: content shorter than its length")?;
        let header_len = input.len() - after_len.len();
        let encoded = input.get(..header_len + len).unwrap_or_default();
        self.rest = rest;
        Ok(Element {
            tag,
            content,
            encoded,
        })
    }

    /// The next element, which must have tag `expected`.
    pub(crate) fn expect(&mut self, expected: u8, what: &str) -> Result<Element<'a>, String> {
        let element = self.next()?;
        if element.tag == expected {
            Ok(element)
        } else {
            Err(format!(
                "{what}: expected DER tag 0x{expected:02x}, found 0x{:02x}",
                element.tag
            ))
        }
    }
}

/// The unsigned big-endian magnitude of a DER INTEGER (its sign byte, if any, dropped), as JWK
/// members and RSA public key components want it.
pub(crate) fn unsigned_integer(content: &[u8]) -> &[u8] {
    match content {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    }
}

/// The dotted-decimal form of an OBJECT IDENTIFIER's content, e.g. "2.5.4.3".
pub(crate) fn oid_to_string(content: &[u8]) -> Result<String, String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (i, b) in content.iter().enumerate() {
        if value > (u64::MAX >> 7) {
            return Err("OID arc too large".to_owned());
        }
        value = value << 7 | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                // The first subidentifier packs the first two arcs: 40 * X + Y, X in 0..=2.
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if i + 1 == content.len() {
            return Err("truncated OID".to_owned());
        }
    }
    if arcs.is_empty() {
        return Err("empty OID".to_owned());
    }
    Ok(arcs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("."))
}

/// Encodes one element with a definite length (tests build DER with it).
#[cfg(test)]
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_and_long_lengths() {
        let inner = encode(tag::OCTET_STRING, &[7u8; 300]);
        let outer = encode(
            tag::SEQUENCE,
            &[encode(tag::INTEGER, &[0, 0x80]), inner].concat(),
        );
        let mut reader = Reader::new(&outer);
        let seq = reader.expect(tag::SEQUENCE, "outer").expect("sequence");
        assert!(reader.is_empty());
        assert_eq!(seq.encoded, outer.as_slice());
        let mut fields = Reader::new(seq.content);
        let int = fields.expect(tag::INTEGER, "int").expect("integer");
        assert_eq!(unsigned_integer(int.content), [0x80]);
        assert_eq!(fields.peek_tag(), Some(tag::OCTET_STRING));
        assert_eq!(fields.next().expect("octets").content.len(), 300);
        assert!(fields.next().is_err());
        assert!(Reader::new(&[0x30, 0x05, 1]).next().is_err());
    }

    #[test]
    fn decodes_oids() {
        assert_eq!(oid_to_string(&[0x55, 0x04, 0x03]).as_deref(), Ok("2.5.4.3"));
        // 1.2.840.10045.3.1.7 (prime256v1)
        let p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        assert_eq!(oid_to_string(&p256).as_deref(), Ok("1.2.840.10045.3.1.7"));
        assert!(oid_to_string(&[0x86]).is_err());
    }
}
