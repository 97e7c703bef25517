import SystemSupport
import Testing

@testable import RemoteFetch

@Suite struct AddressPolicyTests {
    private func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    @Test(arguments: [
        "0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
        "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
        "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a00:1", "2001::1",
        "2001:db8::1", "2002:a00:1::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
    ])
    func specialPurposeAddressesAreRefused(text: String) throws {
        let policy = AddressPolicy()
        #expect(!policy.permits(try address(text)))
    }

    @Test(arguments: [
        "1.1.1.1", "8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "192.169.0.1", "::ffff:8.8.8.8",
        "2606:4700:4700::1111", "2a00:1450:4001::200e",
    ])
    func publicAddressesArePermitted(text: String) throws {
        #expect(AddressPolicy().permits(try address(text)))
    }

    @Test func theAllowListOpensExactlyItsBlocks() throws {
        let policy = AddressPolicy(allowed: ["127.0.0.1/32", "10.8.0.0/16", "fd00::/8"].compactMap(AddressBlock.init))
        #expect(policy.permits(try address("127.0.0.1")))
        #expect(policy.permits(try address("::ffff:127.0.0.1")))  // the same host, written as IPv6
        #expect(!policy.permits(try address("127.0.0.2")))
        #expect(policy.permits(try address("10.8.200.1")))
        #expect(!policy.permits(try address("10.9.0.1")))
        #expect(policy.permits(try address("fd12::1")))
        #expect(!policy.permits(try address("fe80::1")))
    }

    @Test func ipv4MappedAddressesAreStoredAsIPv4() throws {
        let mapped = try address("::ffff:192.168.0.1")
        #expect(mapped.isV4)
        #expect(mapped == (try address("192.168.0.1")))
        #expect(mapped.description == "192.168.0.1")
        #expect(try #require(AddressBlock("192.168.0.0/16")).contains("::ffff:192.168.3.4"))
    }

    @Test func addressBlocksParseStrictly() {
        #expect(AddressBlock("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(AddressBlock("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(AddressBlock("::1")?.description == "::1/128")
        #expect(AddressBlock("fe80::1/10")?.description == "fe80::/10")
        for bad in [
            "", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "::/129", "127.1", "0x7f.0.0.1", "host", "1.2.3.4/",
        ] {
            #expect(AddressBlock(bad) == nil, "\(bad)")
        }
    }
}
