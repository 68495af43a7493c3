//! Redis Cluster key → hash slot mapping (CRC16/XMODEM mod 16384).

/// Number of hash slots, as in Redis Cluster.
pub const SLOTS: u16 = 16384;

/// CRC16 table for polynomial 0x1021 (XMODEM), identical to Redis's
/// crc16.c table; computed at compile time so it cannot be mistyped.
static CRC16_TAB: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut tab = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        tab[i] = crc;
        i += 1;
    }
    tab
}

/// CRC16/XMODEM of `buf` (init 0, no reflection, no final xor).
pub fn crc16(buf: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in buf {
        crc = (crc << 8) ^ CRC16_TAB[(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

/// Hash slot of `key`, honouring `{hash tags}` like Redis's keyHashSlot:
/// only the first `{` counts, the tag ends at the first `}` after it, and
/// an empty tag (`{}`) means the whole key is hashed.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&c| c == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&c| c == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    crc16(hashed) & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"123456789"), 0x31C3 & 0x3FFF);
    }

    #[test]
    fn known_slots() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
    }

    #[test]
    fn hash_tag_edge_cases() {
        // Empty tag: whole key is hashed.
        assert_eq!(key_slot(b"{}foo"), crc16(b"{}foo") & 0x3FFF);
        // Unclosed tag: whole key.
        assert_eq!(key_slot(b"{foo"), crc16(b"{foo") & 0x3FFF);
        // Only the first '{' opens a tag; "{{bar}}" hashes "{bar".
        assert_eq!(key_slot(b"{{bar}}"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") & 0x3FFF);
    }
}
