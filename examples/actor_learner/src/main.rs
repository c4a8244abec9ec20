fn main() -> std::process::ExitCode {
    actor_learner::actor_learner::main()
}
