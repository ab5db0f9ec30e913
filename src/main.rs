fn main() -> std::process::ExitCode {
    fsmfs::cli::main()
}
