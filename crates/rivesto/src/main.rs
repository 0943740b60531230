fn main() {
    println!("rivesto");
}
