fn main() -> std::process::ExitCode {
    mapreduce::mapreduce::main()
}
