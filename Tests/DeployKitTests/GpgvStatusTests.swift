import Testing
@testable import DeployKit

/// gpgv's status lines, read by their first word only.
@Suite struct GpgvStatusTests {
    @Test func aGoodSignatureIsTrusted() {
        let status = SignatureChecker.gpgvStatus("""
            [GNUPG:] NEWSIG
            [GNUPG:] GOODSIG 1234ABCD Ada <ada@example.test>
            [GNUPG:] VALIDSIG 0123456789ABCDEF0123456789ABCDEF1234ABCD 2026-12-01 1764547200 0 4 0 22 8 00 0123456789ABCDEF0123456789ABCDEF1234ABCD
            """)
        #expect(status.trusted && status.key == "0123456789ABCDEF0123456789ABCDEF1234ABCD" && status.signer == "Ada <ada@example.test>")
    }

    /// gpgv exits 0 for a revoked key, and prints the user id unescaped: a uid holding
    /// "[GNUPG:] GOODSIG" must not read as a good signature.
    @Test func aRevokedKeyWhoseUserIDImitatesAGoodSignatureIsNotTrusted() {
        let status = SignatureChecker.gpgvStatus("""
            [GNUPG:] NEWSIG
            [GNUPG:] KEYREVOKED
            [GNUPG:] REVKEYSIG 1234ABCD Ex [GNUPG:] GOODSIG 0 <ex@example.test>
            [GNUPG:] VALIDSIG 0123456789ABCDEF0123456789ABCDEF1234ABCD 2026-12-01 1764547200 0 4 0 22 8 00 0123456789ABCDEF0123456789ABCDEF1234ABCD
            """)
        #expect(!status.trusted)
        #expect(status.keywords.contains("REVKEYSIG") && !status.keywords.contains("GOODSIG"))
    }

    @Test func anExpiredSignatureIsNotTrusted() {
        #expect(!SignatureChecker.gpgvStatus("[GNUPG:] EXPSIG 1234ABCD Ada\n[GNUPG:] GOODSIG 1234ABCD Ada\n[GNUPG:] VALIDSIG 1234ABCD").trusted)
    }
}
