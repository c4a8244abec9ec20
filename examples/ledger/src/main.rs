fn main() -> std::process::ExitCode {
    ledger::ledger::main()
}
