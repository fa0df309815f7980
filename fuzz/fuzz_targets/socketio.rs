#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentgate_fuzz::checks::socketio(data));
