import LaneTOML
import Testing

/// Token, secret and configuration files saved with Windows line ends read like any other.
@Suite struct TextLinesTests {
    @Test func aSecretsFirstLineLeavesItsLineEndBehind() {
        #expect("a-secret-of-some-length\r\n".firstLineTrimmed == "a-secret-of-some-length")
        #expect("  spaced-secret-0123456 \r\nnext line".firstLineTrimmed == "spaced-secret-0123456")
        #expect("only\n".firstLineTrimmed == "only" && "".firstLineTrimmed == "")
        #expect("a\r\nb\rc\nd".textLines == ["a", "b", "c", "d"])
    }

    @Test func tomlLinesAreCountedWithEitherLineEnd() {
        let text = "[store]\r\nkind = \"sqlite\"\r\n\r\n[[webhook]]\r\nname = \"x\"\r\n"
        #expect(TOMLKeyLocator(text: text).line(of: "webhook[0].name") == 5)
    }
}
