// Moved to @orchestra/testing (libs/testing); this re-export keeps in-flight imports working until they move.
export * from '@orchestra/testing';
