untrusted comment: signature from minisign secret key
RUQBI0VniavN77iPoR74ympEPNBsrz+5P63rTnQCuaW0nriv9OikO2Dm7XjUsctMj8b0lSPhRCg/7mit9nvb5CGy4WWenhpM/w8=
trusted comment: timestamp:1700000000	file:golden.txt	hashed
