//! The runtime's clock. Read once per request (the pipeline puts it in the
//! request context) and passed on as a [`Now`]: `shared` takes time as a
//! parameter, and one request sees one instant in every unit.

/// An instant, as the runtime's clock gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now {
    ms: u64,
}

impl Now {
    /// Reads the clock.
    pub fn read() -> Self {
        Self {
            ms: worker::Date::now().as_millis(),
        }
    }

    /// Unix milliseconds.
    pub fn ms(self) -> u64 {
        self.ms
    }

    /// Unix seconds (what `shared` and the tokens use).
    pub fn secs(self) -> u64 {
        self.ms / 1000
    }

    /// Unix seconds as stored in rows.
    pub fn unix(self) -> i64 {
        self.secs() as i64
    }
}
