fn main() -> std::process::ExitCode {
    consumer_producers::slow_consumer_producers::main()
}
