#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fsmfs::fuzz_targets::pack_manifest(data));
