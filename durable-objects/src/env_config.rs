//! Reads the gateway's configuration out of `Env`, once per isolate. The
//! worker and the Durable Objects (same script, same isolate) share it: the
//! one place where vars and secrets become a validated [`Config`].

use agentgate_shared::config::{Config, ConfigError};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    static CONFIG: OnceCell<Result<Rc<Config>, ConfigError>> = const { OnceCell::new() };
}

/// The validated configuration, parsed on the first request of this isolate.
pub fn load(env: &Env) -> Result<Rc<Config>, ConfigError> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| Config::from_lookup(|name| read(env, name)).map(Rc::new))
            .clone()
    })
}

/// A var or secret as a string; unset, or not a string binding, is `None`.
fn read(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
}
