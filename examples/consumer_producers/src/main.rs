fn main() -> std::process::ExitCode {
    consumer_producers::consumer_producers::main()
}
