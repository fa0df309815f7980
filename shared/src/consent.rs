//! Who may be put in a channel, and by whom (issue #17 item 5).
//!
//! The rule: nobody becomes a participant of a channel without consent.
//! - The caller consents for itself and for the agents it may address: its
//!   own agents and those shared with it. Those join at once.
//! - Anyone else listed (another person, an agent the caller cannot see, an
//!   id that names nothing) is only **invited**: an invitation is not
//!   membership (no history, no messages, no socket, not listed as a
//!   participant) until the invitee accepts it by adding itself. Whether the
//!   id exists is never revealed: every non-addressable id is invited alike.
//! - A DM is a channel with one addressable agent; it is created by `POST`
//!   only, and an agent the caller cannot see is "not found".
//! - Any participant may leave (or decline an invitation); only the creator
//!   removes others.

/// How a listed entity enters a new channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// Participants at once: agents the caller may address.
    pub members: Vec<String>,
    /// Invited until they accept.
    pub invited: Vec<String>,
}

/// Splits a checked participant list (see [`crate::rules::entity_list`],
/// which already dropped the creator) by the consent rule.
pub fn admit(listed: Vec<String>, addressable: impl Fn(&str) -> bool) -> Admission {
    let (members, invited) = listed.into_iter().partition(|id| addressable(id));
    Admission { members, invited }
}

/// What `POST …/channels/:id/participants {entityId}` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddParticipant {
    /// The caller names itself: it accepts its own invitation (and nothing
    /// happens without one).
    AcceptInvitation,
    /// The creator adds an agent it may address.
    AddMember,
    /// The creator invites anyone else.
    Invite,
    /// Only the creator adds others.
    NotCreator,
}

pub fn add_participant(
    caller: &str,
    creator: &str,
    target: &str,
    target_addressable: bool,
) -> AddParticipant {
    if target == caller {
        AddParticipant::AcceptInvitation
    } else if caller != creator {
        AddParticipant::NotCreator
    } else if target_addressable {
        AddParticipant::AddMember
    } else {
        AddParticipant::Invite
    }
}

/// What `DELETE …/channels/:id/participants/:entityId` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveParticipant {
    /// The caller leaves (or declines an invitation).
    Leave,
    /// The creator removes someone else.
    Remove,
    /// Only the creator removes others.
    NotCreator,
}

pub fn remove_participant(caller: &str, creator: &str, target: &str) -> RemoveParticipant {
    if target == caller {
        RemoveParticipant::Leave
    } else if caller == creator {
        RemoveParticipant::Remove
    } else {
        RemoveParticipant::NotCreator
    }
}

/// The key that makes a DM unique per pair, whichever side asks: the SHA-256
/// of the two ids, sorted, joined by a newline.
pub fn dm_key(a: &str, b: &str) -> String {
    let mut pair = [a, b];
    pair.sort_unstable();
    crate::ids::sha256_hex(&pair.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "0190b6a0-0000-7000-8000-000000000001";
    const MINE: &str = "0190b6a0-0000-7000-8000-0000000000a1";
    const BOB: &str = "0190b6a0-0000-7000-8000-000000000002";
    const HIDDEN: &str = "0190b6a0-0000-7000-8000-0000000000b1";

    #[test]
    fn only_addressable_agents_join_at_once() {
        let got = admit(vec![MINE.into(), BOB.into(), HIDDEN.into()], |id| {
            id == MINE
        });
        assert_eq!(got.members, vec![MINE.to_string()]);
        assert_eq!(got.invited, vec![BOB.to_string(), HIDDEN.to_string()]);
        assert_eq!(admit(vec![], |_| true).members, Vec::<String>::new());
    }

    #[test]
    fn only_the_invitee_accepts_and_only_the_creator_adds_others() {
        use AddParticipant::*;
        assert_eq!(add_participant(BOB, ME, BOB, false), AcceptInvitation);
        assert_eq!(add_participant(ME, ME, MINE, true), AddMember);
        assert_eq!(add_participant(ME, ME, BOB, false), Invite);
        // A participant who is not the creator can't add (or invite) others,
        // not even agents it could address.
        assert_eq!(add_participant(BOB, ME, HIDDEN, true), NotCreator);
    }

    #[test]
    fn anyone_leaves_only_the_creator_removes() {
        use RemoveParticipant::*;
        assert_eq!(remove_participant(BOB, ME, BOB), Leave);
        assert_eq!(remove_participant(ME, ME, ME), Leave);
        assert_eq!(remove_participant(ME, ME, BOB), Remove);
        assert_eq!(remove_participant(BOB, ME, MINE), NotCreator);
    }

    #[test]
    fn a_dm_key_is_the_same_from_both_sides_and_differs_per_pair() {
        assert_eq!(dm_key(ME, MINE), dm_key(MINE, ME));
        assert_ne!(dm_key(ME, MINE), dm_key(ME, BOB));
        assert_eq!(dm_key(ME, MINE).len(), 64);
    }
}
