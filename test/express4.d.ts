// express@4 installed under an alias to run the adapter suite on both majors; its API is
// the subset typed by @types/express.
declare module "express4" {
  import express from "express";
  export default express;
}
