fn main() -> std::process::ExitCode {
    lp_tests::a_program_whose_name_is_longer_than_any_kubernetes_object_name_may_be_at_all::main()
}
