//! Whether two coordinates are a point on P-256 (y² = x³ − 3x + b mod p),
//! in constant-size modular arithmetic from `crypto-bigint`: the key check
//! the production module makes without linking the `p256` crate (which only
//! the pure-Rust verifier, feature `dev`, needs). Tested against `p256`.

use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};
use crypto_bigint::{impl_modulus, U256};

impl_modulus!(
    FieldPrime,
    U256,
    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
);

/// The curve's `b`.
const B: U256 =
    U256::from_be_hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");

/// Both coordinates below p and on the curve. (An affine point is never the
/// identity, which has no affine coordinates.)
pub(crate) fn is_on_curve(x: &[u8; 32], y: &[u8; 32]) -> bool {
    let (x, y) = (U256::from_be_slice(x), U256::from_be_slice(y));
    if x >= FieldPrime::MODULUS || y >= FieldPrime::MODULUS {
        return false;
    }
    let field = |v: &U256| Residue::<FieldPrime, { U256::LIMBS }>::new(v);
    let (x, y) = (field(&x), field(&y));
    let (three, b) = (field(&U256::from_u8(3)), field(&B));
    let rhs = x.square() * x - three * x + b;
    y.square().retrieve() == rhs.retrieve()
}

#[cfg(all(test, feature = "dev"))]
mod tests {
    use super::is_on_curve;
    use crypto_bigint::{Encoding, U256};

    fn p256_accepts(x: &[u8; 32], y: &[u8; 32]) -> bool {
        let point = p256::EncodedPoint::from_affine_coordinates(&(*x).into(), &(*y).into(), false);
        p256::ecdsa::VerifyingKey::from_encoded_point(&point).is_ok()
    }

    fn coordinates(seed: u8) -> ([u8; 32], [u8; 32]) {
        let mut scalar = [seed; 32];
        scalar[0] = 1;
        let key = p256::ecdsa::SigningKey::from_slice(&scalar).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        ((*point.x().unwrap()).into(), (*point.y().unwrap()).into())
    }

    #[test]
    fn agrees_with_the_p256_crate() {
        let p: [u8; 32] =
            hex::decode("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")
                .unwrap()
                .try_into()
                .unwrap();
        for seed in 0..=255u8 {
            let (x, y) = coordinates(seed);
            assert!(is_on_curve(&x, &y), "seed {seed}");
            assert!(p256_accepts(&x, &y));
            // Near misses: a bit flipped in either coordinate, x and y
            // swapped, coordinates ≥ p, arbitrary bytes.
            let mut cases = vec![(y, x), (p, y), (x, p), ([seed; 32], [seed ^ 0x5a; 32])];
            for bit in [0usize, 7, 100, 255] {
                let (mut fx, mut fy) = (x, y);
                fx[bit / 8] ^= 1 << (bit % 8);
                fy[31 - bit / 8] ^= 1 << (bit % 8);
                cases.push((fx, y));
                cases.push((x, fy));
            }
            // y and p − y are both on the curve.
            let neg_y: [u8; 32] = U256::from_be_slice(&p)
                .wrapping_sub(&U256::from_be_slice(&y))
                .to_be_bytes();
            cases.push((x, neg_y));
            for (cx, cy) in cases {
                assert_eq!(
                    is_on_curve(&cx, &cy),
                    p256_accepts(&cx, &cy),
                    "{cx:?} {cy:?}"
                );
            }
        }
        assert!(!is_on_curve(&[0; 32], &[0; 32]));
    }
}
