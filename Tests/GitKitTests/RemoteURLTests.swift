import GitKit
import Testing

/// Tokens in remote URLs (how CI passes them) never reach a message.
@Suite struct RemoteURLTests {
    @Test(arguments: [
        ("https://gitlab-ci-token:s3cr3t@gitlab.example.test/group/stacks.git", "https://***@gitlab.example.test/group/stacks.git"),
        ("https://ghp_s3cr3t@github.com/org/stacks", "https://***@github.com/org/stacks"),
        ("ssh://git@host.example.test:2222/stacks.git", "ssh://***@host.example.test:2222/stacks.git"),
        ("git@host.example.test:stacks.git", "git@host.example.test:stacks.git"),
        ("https://host.example.test/a@b", "https://host.example.test/a@b"),
        ("cannot fetch origin (https://u:s3cr3t@h.test/x): failed to resolve 'https://u:s3cr3t@h.test/x'",
         "cannot fetch origin (https://***@h.test/x): failed to resolve 'https://***@h.test/x'"),
    ])
    func userInformationIsHidden(_ url: String, _ shown: String) {
        #expect(RemoteURL.shown(url) == shown)
    }
}
