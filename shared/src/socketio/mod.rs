//! Socket.IO on the edge (SPEC §9): the three layers the unmodified
//! `socket.io-client` 4 and the ElizaOS web UI speak, each pure.
//!
//! - [`engine`]: Engine.IO v4 framing, the handshake and the query of
//!   `/socket.io/` requests;
//! - [`packet`]: Socket.IO v5 packets inside Engine.IO messages;
//! - [`eliza`]: ElizaOS's events (`ROOM_JOINING`, `SEND_MESSAGE`, …) and the
//!   gateway's rules for them.

pub mod eliza;
pub mod engine;
pub mod packet;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No input, however hostile, panics any layer; whatever decodes
        /// re-encodes to a packet that decodes the same.
        #[test]
        fn no_frame_panics(frame in ".{0,300}", entity in "[0-9a-f-]{0,40}") {
            if let Ok(packets) = engine::decode_payload(&frame) {
                for p in packets {
                    let encoded = engine::encode(&p);
                    prop_assert_eq!(engine::decode(&encoded), Ok(p.clone()));
                    if let engine::Packet::Message(data) = p {
                        if let Ok(packet::ClientPacket::Event { name, args, .. }) = packet::decode(data) {
                            let _ = eliza::parse_event(&name, &args, &entity);
                        }
                    }
                }
            }
        }

        #[test]
        fn socket_io_prefixes_never_panic(kind in "[0-6]", ns in "(/[a-z]{0,4},)?", ack in "[0-9]{0,25}", body in ".{0,80}") {
            let _ = packet::decode(&format!("{kind}{ns}{ack}{body}"));
        }
    }
}
